# The watcher image: `node cli/main.ts watch --vantage ID`, one ECS Fargate task per vantage point (arm64).
# Built by `cdk deploy` (ContainerImage.fromAsset in infra/WatcherService.ts); `cdk synth` never runs Docker.
# From ECR Public rather than Docker Hub: no anonymous pull rate limit.
FROM public.ecr.aws/docker/library/node:24-slim

WORKDIR /app
ENV NODE_ENV=production
# Dependencies first, so that a source-only change reuses this layer.
COPY package.json package-lock.json .npmrc ./
# The dev dependencies (CDK, test tools, the `node` package) stay out: the base image is Node 24.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY bin ./bin
COPY cli ./cli
COPY control ./control
COPY fleet ./fleet
COPY lambdas ./lambdas
COPY local ./local
COPY probes ./probes
COPY waku ./waku
COPY config ./config

USER node
# The task definition passes `node cli/main.ts watch --vantage ID`; this default only explains itself.
CMD ["node", "cli/main.ts", "--help"]
