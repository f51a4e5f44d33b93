# syntax=docker/dockerfile:1
# Build: docker build -t imapbridge .
# Demo:  docker run --rm -p 8080:8080 imapbridge            (embedded IMAP server and demo page)
# Real:  docker run --rm -p 8080:8080 -v $PWD/bridge.json:/etc/imapbridge/bridge.json:ro \
#          -e IMAPBRIDGE_CONFIG=/etc/imapbridge/bridge.json imapbridge
# (see README.md "Running against a real IMAP server" for the configuration file)

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# A static binary: no libc, no cgo; the demo page is embedded with go:embed.
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/bridge ./cmd/bridge

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/bridge /usr/local/bin/bridge
# Listen on all interfaces inside the container; map the port with -p.
ENV IMAPBRIDGE_ADDR=:8080
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/usr/local/bin/bridge", "-healthcheck"]
ENTRYPOINT ["/usr/local/bin/bridge"]
