# migration-hook as a small image: the static (musl) binary of a release package on
# distroless/static (no shell, runs as non-root). For the pipe after `helm template`:
#
#   helm template shop ./chart | docker run -i --rm migration-hook:0.1.0 --container deployment/shop-web:migrate
#
# It is built from the packages in dist/ (scripts/release.sh, or downloaded from the release
# with their SHA256SUMS checked), one per platform, so the image runs the released binary:
#
#   scripts/release.sh --target x86_64-unknown-linux-musl --target aarch64-unknown-linux-musl
#   docker buildx build --platform linux/amd64,linux/arm64 -t registry.example.com/migration-hook:0.1.0 .
#
# (BuildKit, the default builder, sets TARGETOS and TARGETARCH.) The Argo CD sidecar needs helm and
# a shell as well: examples/argocd/Dockerfile puts the same binary into Argo CD's image.
ARG VERSION=0.1.0

FROM scratch AS package
ARG VERSION
ARG TARGETOS
ARG TARGETARCH
# ADD unpacks a local tarball: /migration-hook/bin/migration-hook.
ADD dist/migration-hook-${VERSION}-${TARGETOS}-${TARGETARCH}.tar.gz /

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=package /migration-hook/bin/migration-hook /usr/local/bin/migration-hook
ENTRYPOINT ["/usr/local/bin/migration-hook"]
