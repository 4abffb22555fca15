# kefu: a static binary on a small non-root image.
# Build: docker build -t kefu .   Run: docker run --network host kefu
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o /out/kefu ./cmd/kefu \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/kefu /usr/local/bin/kefu
COPY --from=build --chown=nonroot:nonroot /out/data /var/lib/kefu
USER nonroot:nonroot
# SIP (UDP and TCP), RTP range, ops HTTP.
EXPOSE 5060/udp 5060/tcp 10000-20000/udp 8080/tcp
ENV KEFU_DATA=/var/lib/kefu KEFU_HTTP=0.0.0.0:8080
ENTRYPOINT ["/usr/local/bin/kefu"]
CMD ["run"]
