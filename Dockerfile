# kabiforge worker image: the kabiforge binary plus mock and the RPM tools it runs.
#
#   docker build -t kabiforge-worker .
#   docker run --privileged -v kabiforge-mock:/var/lib/mock -v kabiforge-mock-cache:/var/cache/mock \
#     -v /etc/kabiforge:/etc/kabiforge:ro kabiforge-worker --config /etc/kabiforge/config.yaml --queues build-x86_64
#
# See README.md ("The worker image") for the privileges mock needs.

# ---- Stage 1: build the binary with the Go toolchain (static, no cgo).
FROM docker.io/library/golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/kabiforge ./cmd/kabiforge

# ---- Stage 2: the worker. Fedora ships mock in its main repositories; its
# mock-core-configs carry the centos-stream-8/9 and centos-stream+epel templates.
FROM registry.fedoraproject.org/fedora:42 AS worker
RUN dnf -y install --setopt=install_weak_deps=False \
        mock mock-core-configs rpm-build rpm-sign createrepo_c \
        cpio gnupg2 systemd-container ca-certificates \
    && dnf clean all \
    && rm -rf /var/cache/dnf
# mock will not run as root without an unprivileged user to drop to (it reads
# SUDO_UID) and wants that user in the mock group; the worker runs as root so
# that cancelling a build can signal mock's root-owned process group, and
# gives mock this user (builder.mock.user, or SUDO_UID below). The result
# dirs are made for it. mock-core-configs installs the configs and the
# templates they include by absolute path in /etc/mock (builder.mock.config_dir).
RUN getent group mock >/dev/null || groupadd -r mock; \
    useradd --system --uid 990 --gid mock --home-dir /var/lib/kabiforge --no-create-home \
        --shell /sbin/nologin kabiforge-mock \
    && test -f /etc/mock/site-defaults.cfg && test -d /etc/mock/templates
ENV SUDO_UID=990
COPY --from=build /out/kabiforge /usr/local/bin/kabiforge
# Buildroots and the package cache live on volumes: they are large and the
# cache makes the next buildroot fast.
VOLUME ["/var/lib/mock", "/var/cache/mock"]
WORKDIR /var/lib/kabiforge
ENTRYPOINT ["/usr/local/bin/kabiforge", "worker"]
