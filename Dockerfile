# berth/runtime-node:24 for hosts that reach a registry. Where none can be
# reached, `npm start` / `npm test` build the same image offline from the
# Node.js 24 binary that berth itself depends on (scripts/setup.mjs).
FROM node:24-slim
COPY packages/workload/package.json /node_modules/@berth/workload/package.json
COPY packages/workload/lib /node_modules/@berth/workload/lib
# berth mounts the container's code directory at /run/berth-code, where
# `current` points at the active release: /app is always one whole release.
RUN mkdir -p /run/berth /run/berth-code && ln -s /run/berth-code/current /app
WORKDIR /app
ENV NODE_ENV=production
CMD ["node", "/app/index.js"]
