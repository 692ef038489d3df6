#!/usr/bin/env bash
# protocol/ is pure: no CZMQ or libzmq, no clock reads, no logging, no sockets, no threads.
set -u
dir=${1:?usage: tidy-protocol.sh PROTOCOL_DIR}
bad=$(grep -nE '#include *[<"](czmq|zmq|zsys|pthread|time|sys/socket|syslog)\.h|\b(clock_gettime|gettimeofday|time *\(|zclock_|zsys_|printf *\(|fprintf *\(|puts *\(|syslog *\(|rand *\(|random *\()' \
      "$dir"/*.c "$dir"/*.h | grep -v 'ZMESH_ASSERT\|zmesh_error.h:.*fprintf (stderr, "zmesh: assertion')
if [ -n "$bad" ]; then
    echo "protocol/ must stay pure; found:"
    echo "$bad"
    exit 1
fi
echo "protocol/ is pure ($(ls "$dir"/*.c | wc -l) sources checked)"
