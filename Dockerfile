# syntax=docker/dockerfile:1
# Build a static binary (pure-Go SQLite, no cgo), then ship it alone on
# distroless: no shell, no package manager, a non-root user.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/chat .
RUN mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/chat /chat
COPY --from=build --chown=65532:65532 /out/data /data
ENV DATA_DIR=/data PORT=8080
USER 65532:65532
EXPOSE 8080
VOLUME ["/data"]
# distroless has no curl: the binary checks itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=5s --retries=3 CMD ["/chat", "healthcheck"]
ENTRYPOINT ["/chat"]
