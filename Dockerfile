# onfail serve in a container (docs/serve-deploy.md): the static musl binary on an empty image,
# run as a non-root user, the SQLite store on a volume.
#   docker build -t onfail .
#   docker run -d -p 8087:8087 -v onfail-data:/var/lib/onfail --env-file onfail.env onfail
# The same binary runs the CLI too: docker run --rm onfail send --help

FROM rust:1.95-slim-bookworm AS build
# musl-tools: SQLite (bundled in rusqlite) is C, built with musl-gcc for the static target.
RUN apt-get update \
 && apt-get install -y --no-install-recommends musl-tools=1.2.3-1 \
 && rm -rf /var/lib/apt/lists/* \
 && rustup target add x86_64-unknown-linux-musl
WORKDIR /src
COPY . .
RUN cargo build --release --locked --target x86_64-unknown-linux-musl \
 && cp target/x86_64-unknown-linux-musl/release/onfail /onfail \
 && mkdir -p /data

FROM scratch
# No shell, no libc, no package manager: the binary is all there is. HTTPS to the providers
# and to --forward-reports-to uses onfail's built-in roots, so no CA bundle is needed.
COPY --from=build /onfail /onfail
# The store's directory, owned by the unprivileged user the service runs as.
COPY --from=build --chown=65532:65532 /data /var/lib/onfail
USER 65532:65532
VOLUME ["/var/lib/onfail"]
ENV ONFAIL_STORE=sqlite:///var/lib/onfail/serve.db
EXPOSE 8087
ENTRYPOINT ["/onfail"]
CMD ["serve", "--listen", "0.0.0.0:8087"]
