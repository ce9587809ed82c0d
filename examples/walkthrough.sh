#!/bin/sh
# The first steps of the README walk-through, run by `make run`:
# create the data directory, open the example dispute and show it.
set -eu
REDRESS=${REDRESS:-build/redress}
DATA=${DATA:-./redress-data}
export REDRESS_DATA="$DATA"

"$REDRESS" init
id=$("$REDRESS" open examples/dispute.json --as agent:alice --json |
     sed -n 's/^  "id": "\(.*\)",$/\1/p')
"$REDRESS" show "$id"
cat <<MSG

Opened dispute $id in $DATA. Carry on with the README walk-through:
  $REDRESS event $id investigate --as agent:alice --data $DATA
  $REDRESS list --data $DATA
  $REDRESS --help
MSG
