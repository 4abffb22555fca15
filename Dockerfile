# kefu: a static binary on a small non-root image that keeps its data in a volume.
#
# Build (the context has no .git: pass the version and commit in):
#   docker build -t kefu --build-arg KEFU_VERSION="$(git describe --tags --always --dirty)" \
#     --build-arg KEFU_REVISION="$(git rev-parse HEAD)" --build-arg KEFU_BUILT="$(git log -1 --format=%cI)" .
# Run, reload and stop it: README.md, "Running it in production".
# cmd/kefu/container_test.go checks this file against kefu's defaults and runs
# the build line below and the image's user, paths and commands.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
# .dockerignore keeps data directories (recordings, callers' numbers), .git
# and test output out of the context.
COPY . .
ARG KEFU_VERSION=""
ARG KEFU_REVISION=""
ARG KEFU_BUILT=""
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false -ldflags="-s -w -X main.version=${KEFU_VERSION} -X main.revision=${KEFU_REVISION} -X main.built=${KEFU_BUILT}" -o /out/kefu ./cmd/kefu \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kefu /usr/local/bin/kefu
# The data directory (the SQLite store, complaint recordings), owned by the
# image's user: a new named volume takes its owner from here.
COPY --from=build --chown=nonroot:nonroot /out/data /var/lib/kefu
USER nonroot:nonroot
# KEFU_HTTP is not set: the ops API stays on 127.0.0.1:8080 inside the
# container, reachable by the healthcheck and (with --network host) from the
# host's loopback only. It has no tokens yet.
# KEFU_GRACE: docker stop kills 10 s after SIGTERM; the calls' grace and
# their hang-ups must fit in that. Give calls longer with both
# --stop-timeout (compose: stop_grace_period) and KEFU_GRACE.
# KEFU_RTP_PORTS: 1000 ports, 500 media legs (one even port each).
ENV KEFU_DATA=/var/lib/kefu \
    KEFU_RTP_PORTS=10000-10999 \
    KEFU_GRACE=7s
VOLUME ["/var/lib/kefu"]
# SIP over UDP and TCP, and the RTP range of KEFU_RTP_PORTS.
EXPOSE 5060/udp 5060/tcp 10000-10999/udp
# kefu drains on SIGTERM: 503 to new calls, calls finish within KEFU_GRACE.
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["/usr/local/bin/kefu", "health"]
ENTRYPOINT ["/usr/local/bin/kefu"]
CMD ["run"]
