# syntax=docker/dockerfile:1
# One image for every PixTools service; the command picks the service (see compose.yaml, deploy/).
# Native modules (sharp, onnxruntime-node) are installed inside the image, for its own platform.

FROM node:20-bookworm-slim AS deps
WORKDIR /app
# .npmrc skips onnxruntime-node's install script, which would otherwise fetch the CUDA provider from
# NuGet into a CPU-only image (or fail where NuGet cannot be reached).
COPY package.json package-lock.json .npmrc ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY services services
COPY shared shared
COPY projections projections
COPY db db
COPY models models
# TypeScript compiled to plain JavaScript (same folder layout): no loader at run time.
RUN npx tsc -p tsconfig.build.json

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WORKDIR /app
COPY --from=deps --chown=root:root /app/node_modules node_modules
COPY --from=build --chown=root:root /src/dist ./
COPY --chown=root:root package.json ./
COPY --chown=root:root models/onnx.proto models/
COPY --chown=root:root docs/openapi.json docs/
COPY --chown=root:root web web
# The only writable places: the model weights and their ONNX conversion (mount volumes here).
RUN mkdir -p models/weights models/onnx && chown node:node models/weights models/onnx
USER node
EXPOSE 8000
CMD ["node", "services/intake/main.js"]
