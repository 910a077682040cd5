# syntax=docker/dockerfile:1
# One image for every recsys process; docker-compose.yml picks the command (trainer, serving, start).
# Node 24 runs the TypeScript sources directly (type stripping), so there is no build step.

FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM node:24-slim AS runtime
ENV NODE_ENV=production \
    RECSYS_DATA_DIR=/data \
    HOST=0.0.0.0 \
    PORT=8080
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY bin ./bin
COPY cli ./cli
COPY services ./services
COPY shared ./shared
RUN mkdir -p /data && chown node:node /data
USER node
EXPOSE 8080 9464
ENTRYPOINT ["node", "bin/recsys.mjs"]
CMD ["start"]
