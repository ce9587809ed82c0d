/*
 * ceiling-http: the HTTP ceiling of `make bench`. A minimal libmicrohttpd
 * server with the threading and limits of redress's own (src/http/server.c:
 * epoll with an internal thread pool of one thread per core, the same
 * connection, per-IP, timeout and memory limits) that answers every request
 * with one fixed JSON body read from a file at start: the bytes of a real
 * GET /v1/disputes/{id} answer. Whatever redress does beyond this (routing,
 * the API key, the index, JSON) is what the ratio measures.
 *
 * It answers on the second call of the handler, as redress does (queuing on
 * the first would close keep-alive connections). It must never do work per
 * request beyond what MHD needs: the response object is made once.
 *
 *   ceiling-http BODY_FILE [PORT]   prints "listening on PORT", runs until
 *                                   SIGINT or SIGTERM
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <microhttpd.h>

/* The limits of src/http/server.c. */
#define CONNECTION_LIMIT 256
#define PER_IP_CONNECTION_LIMIT 64
#define CONNECTION_TIMEOUT_S 30
#define CONNECTION_MEMORY_LIMIT (64 * 1024)
#define MAX_BODY (1024 * 1024)

static struct MHD_Response *answer_body;

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn,
				  const char *url, const char *method,
				  const char *version, const char *upload_data,
				  size_t *upload_data_size, void **req_cls)
{
	static int marker;

	(void)cls;
	(void)url;
	(void)method;
	(void)version;
	(void)upload_data;
	if (!*req_cls) {
		*req_cls = &marker;
		return MHD_YES;
	}
	if (*upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	return MHD_queue_response(conn, MHD_HTTP_OK, answer_body);
}

static char *read_body(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	size_t n;

	if (!f)
		return NULL;
	if ((buf = malloc(MAX_BODY)) != NULL) {
		n = fread(buf, 1, MAX_BODY, f);
		if (ferror(f) || n == 0 || n == MAX_BODY) {
			free(buf);
			buf = NULL;
		} else {
			*len = n;
		}
	}
	fclose(f);
	return buf;
}

int main(int argc, char **argv)
{
	struct MHD_Daemon *daemon;
	const union MHD_DaemonInfo *info;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned long port = 0;
	struct sockaddr_in addr;
	sigset_t stop;
	size_t len = 0;
	char *body;
	int sig;

	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: ceiling-http BODY_FILE [PORT]\n");
		return 2;
	}
	if (argc == 3) {
		char *end = NULL;

		port = strtoul(argv[2], &end, 10);
		if (!end || *end || port > 65535) {
			fprintf(stderr, "ceiling-http: bad port %s\n", argv[2]);
			return 2;
		}
	}
	if (!(body = read_body(argv[1], &len))) {
		fprintf(stderr, "ceiling-http: cannot read a body of 1 byte to "
			"1 MiB from %s\n", argv[1]);
		return 1;
	}
	answer_body = MHD_create_response_from_buffer(len, body,
						      MHD_RESPMEM_MUST_FREE);
	if (!answer_body) {
		free(body);
		return 1;
	}
	MHD_add_response_header(answer_body, MHD_HTTP_HEADER_CONTENT_TYPE,
				"application/json");
	MHD_add_response_header(answer_body, MHD_HTTP_HEADER_ETAG, "\"2\"");

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	if (cores < 1)
		cores = 1;
	/* loopback only, like the benchmark's redress */
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)port);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	daemon = MHD_start_daemon(
		MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC,
		0, NULL, NULL, on_request, NULL,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
		MHD_OPTION_THREAD_POOL_SIZE, (unsigned)cores,
		MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTION_LIMIT,
		MHD_OPTION_PER_IP_CONNECTION_LIMIT,
		(unsigned)PER_IP_CONNECTION_LIMIT,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)CONNECTION_TIMEOUT_S,
		MHD_OPTION_CONNECTION_MEMORY_LIMIT,
		(size_t)CONNECTION_MEMORY_LIMIT,
		MHD_OPTION_END);
	if (!daemon) {
		fprintf(stderr, "ceiling-http: cannot listen on port %lu\n",
			port);
		MHD_destroy_response(answer_body);
		return 1;
	}
	info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
	printf("listening on %u\n", info ? (unsigned)info->port
					 : (unsigned)port);
	fflush(stdout);
	sigwait(&stop, &sig);
	MHD_stop_daemon(daemon);
	MHD_destroy_response(answer_body);
	return 0;
}
