# syntax=docker/dockerfile:1
#
# invitebot: a static release build on Debian 12 (glibc linked in: `crt-static`), run on
# distroless static (CA certificates, tzdata, /etc/passwd; no libc, no shell) as the
# unprivileged user 65532. Operator guide: docs/operating.md.
#
#   podman build --format docker -t invitebot .      # or: docker build -t invitebot .
#
# Base images from a local mirror:
#   --build-arg BUILDER_IMAGE=mirror.example/library/rust:1-bookworm
#   --build-arg RUNTIME_IMAGE=mirror.example/distroless/static-debian12:nonroot
# The builder must have glibc's static library (libc6-dev, as the rust images do). The binary
# is static, so the runtime needs no libc, only the nonroot user. Why glibc and not musl: the
# musl build (with mimalloc) answered pings 5-6% slower (docs/operating.md); glibc's own
# resolver (files and dns, as distroless' nsswitch.conf names them) is part of its static library.
# `--format docker` keeps the HEALTHCHECK (podman's default OCI format has none).

ARG BUILDER_IMAGE=docker.io/library/rust:1-bookworm
ARG RUNTIME_IMAGE=gcr.io/distroless/static-debian12:nonroot

FROM ${BUILDER_IMAGE} AS builder
# The commit `invitebot --version` names (.git is not part of the build context).
ARG INVITEBOT_GIT_COMMIT=""
WORKDIR /src
COPY . .
# The cache mounts keep downloaded crates and compiled dependencies between builds.
RUN --mount=type=cache,id=invitebot-cargo-registry,target=/usr/local/cargo/registry \
    --mount=type=cache,id=invitebot-target,target=/src/target \
    RUSTFLAGS="-C target-feature=+crt-static" \
    cargo build --release --locked --target x86_64-unknown-linux-gnu --bin invitebot \
 && install -D -m 0755 target/x86_64-unknown-linux-gnu/release/invitebot /out/usr/local/bin/invitebot \
 && install -d -m 0750 /out/data

FROM ${RUNTIME_IMAGE}
COPY --from=builder /out/usr/local/bin/invitebot /usr/local/bin/invitebot
# An empty /data owned by the service user: a new named volume starts as a copy of it.
COPY --from=builder --chown=65532:65532 /out/data /data
# /config: invitebot.toml (read-only) and the roster folder (writable: the bot adds members).
# /data: the state store (invitebot.sqlite3) and, with the file transport, mail/.
# NO_COLOR: plain log lines for `podman logs` and log collectors (INVITEBOT_LOG_FORMAT=json for JSON).
ENV INVITEBOT_CONFIG=/config/invitebot.toml \
    INVITEBOT_DATA_DIR=/data \
    INVITEBOT_LISTEN=0.0.0.0:8080 \
    NO_COLOR=1
USER 65532:65532
WORKDIR /data
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["/usr/local/bin/invitebot", "healthcheck"]
# SIGTERM: stop accepting, finish the step in progress (at most 8 s), exit 0.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/invitebot"]
CMD ["serve"]
