# botflow: one image for the web process (`botflow serve`) and the statistics workers
# (`botflow worker`). Sources are TypeScript run by tsx: no build step.
FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PUPPETEER_SKIP_DOWNLOAD=1 \
    HOST=0.0.0.0 \
    PORT=3000
WORKDIR /app
COPY package.json package-lock.json .puppeteerrc.cjs ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY engine ./engine
COPY actions ./actions
COPY stats ./stats
COPY channels ./channels
COPY triggers ./triggers
COPY app ./app
COPY cli ./cli
COPY scenarios ./scenarios
COPY scenario.schema.json tsconfig.json ./
USER node
EXPOSE 3000
# SIGTERM reaches node directly (exec form): serve and worker shut down gracefully.
ENTRYPOINT ["node", "bin/botflow.js"]
CMD ["serve"]
