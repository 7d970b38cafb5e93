# selfharness: the GitHub App (webhooks, and workers when REDIS_URL is set) and `selfharness worker`.
#
#   docker build -t selfharness .
#   docker run --env-file .env -p 3000:3000 selfharness                           # the app
#   docker run --env-file .env selfharness node bin/selfharness.cjs worker        # one more worker (REDIS_URL)
#
# The environment it needs is described in docs/installing.md.

# Build: every dependency, then TypeScript compiled to dist/ and the CLI bundled (`npm run build`).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY scripts/build-cli.ts scripts/bundle-options.ts ./scripts/
RUN npm ci --ignore-scripts && npm run build

# Production dependencies only; no install scripts (nothing here is compiled from source).
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    SELFHARNESS_CACHE_DIR=/var/cache/selfharness
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json app.yml ./
COPY bin ./bin
RUN mkdir -p /var/cache/selfharness && chown node:node /var/cache/selfharness
USER node
EXPOSE 3000
# The app and `selfharness worker` both answer GET /ping on PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/ping').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# SIGTERM drains the work (SELFHARNESS_DRAIN_SECONDS); give the container that long to stop.
STOPSIGNAL SIGTERM
CMD ["node", "node_modules/probot/bin/probot.js", "run", "./dist/github/index.js"]
