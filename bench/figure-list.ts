// Every figure of `npm run bench`, in run order: the cheap, pure ones first, the fleet that spawns six nodes last.
import type { Figure } from './figure.ts';
import { bundlesFigure } from './figures/bundles.ts';
import { controllerFigure } from './figures/controller.ts';
import { costModelFigure } from './figures/cost-model.ts';
import { failoverFigure } from './figures/failover.ts';
import { healthProbesFigure } from './figures/health-probes.ts';
import { libp2pPingFigure } from './figures/libp2p-ping.ts';
import { stressFigure } from './figures/stress.ts';

export const FIGURES: readonly Figure[] = [
  controllerFigure,
  bundlesFigure,
  costModelFigure,
  healthProbesFigure,
  libp2pPingFigure,
  stressFigure,
  failoverFigure,
];
