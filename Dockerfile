# syntax=docker/dockerfile:1
# switchyard gateway image, from the repository root:
#   docker build -t switchyard .
# (deploy/docker-compose.yml does this). The runtime tree is laid out by scripts/image-build.sh,
# which test/deploy/image-layout.test.ts also runs and serves from, read-only, as an
# unprivileged user: what the test proves is what this image contains.
#
# Build args:
#   BASE_IMAGE                a Debian-based image with Node.js and npm; pinned to an exact tag.
#                             Node 24 LTS on Debian 13: the upstream uWebSockets.js build (20.57)
#                             needs glibc >= 2.38, which Debian 12 lacks (`npm run test:trixie`
#                             proves this combination without Docker). node:20.20.2-bookworm-slim
#                             also works, with the 20.30 build (what test/deploy runs on).
#   ONNXRUNTIME_NODE_INSTALL  skip (CPU execution provider) or cuda12: onnxruntime-node's install
#                             script then downloads the CUDA and TensorRT providers. A GPU image
#                             needs a BASE_IMAGE that has Node.js and the CUDA 12 / cuDNN 9 runtime
#                             libraries, e.g. one built FROM nvidia/cuda:12.x-cudnn-runtime with
#                             Node installed (not built or tested here: no GPU, no daemon):
#     docker build --build-arg BASE_IMAGE=my/node20-cuda12 --build-arg ONNXRUNTIME_NODE_INSTALL=cuda12 -t switchyard:cuda .
ARG BASE_IMAGE=node:24.22.3-trixie-slim

FROM ${BASE_IMAGE} AS build
WORKDIR /src
ARG ONNXRUNTIME_NODE_INSTALL=skip
ENV ONNXRUNTIME_NODE_INSTALL=${ONNXRUNTIME_NODE_INSTALL}
COPY package.json package-lock.json .npmrc ./
# every dependency, for the TypeScript build; `prepare` needs the sources, not copied yet
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY bin ./bin
COPY schema ./schema
COPY examples/switchyard.yaml ./examples/switchyard.yaml
COPY examples/models ./examples/models
COPY examples/features ./examples/features
COPY deploy/k8s/kserve/switchyard-kserve.yaml ./deploy/k8s/kserve/switchyard-kserve.yaml
COPY scripts/image-build.sh ./scripts/image-build.sh
RUN npm run build && bash scripts/image-build.sh /app

FROM ${BASE_IMAGE}
# the official Node images have a `node` user (uid 1000); other bases get one
RUN id node >/dev/null 2>&1 || useradd --create-home --uid 1000 --user-group node
WORKDIR /app
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=1
COPY --from=build /app /app
# The program is root's and read-only to the gateway; it writes only request logs: here for the
# default command (examples/switchyard.yaml: logs/requests.jsonl beside it), and in
# /var/log/switchyard for configs that log there (deploy/switchyard.yaml, deploy/k8s); and,
# without Redis, its routes and statistics (state_dir: examples/state for the default command).
RUN install -d -o node -g node -m 0755 /app/examples/logs /app/examples/state /var/log/switchyard
VOLUME ["/app/examples/logs", "/app/examples/state", "/var/log/switchyard"]
USER node
# HTTP (REST, WebSocket, /metrics) and gRPC, as Triton
EXPOSE 8000 8001
# no curl in slim images: Node's fetch asks the readiness endpoint
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 CMD \
  ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.SWITCHYARD_HTTP_PORT||8000)+'/v2/health/ready').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/switchyard.js"]
CMD ["serve", "--config", "examples/switchyard.yaml"]
