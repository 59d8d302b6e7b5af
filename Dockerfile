# berth/runtime-node:24 for hosts that reach a registry. Where none can be
# reached, `npm start` / `npm test` build the same image offline from the
# Node.js 24 binary that berth itself depends on (scripts/setup.mjs).
FROM node:24-slim
COPY packages/workload/package.json /node_modules/@berth/workload/package.json
COPY packages/workload/lib /node_modules/@berth/workload/lib
RUN mkdir -p /app /run/berth
WORKDIR /app
ENV NODE_ENV=production
CMD ["node", "/app/index.js"]
