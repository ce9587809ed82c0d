/* The redress command line (being built). */
#include <stdio.h>

int main(void)
{
	fputs("redress: no commands yet\n", stderr);
	return 2;
}
