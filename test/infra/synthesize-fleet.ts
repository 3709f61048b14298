// Builds the storefleet app for template tests: the example config, cdk.json's feature flags, no bundling.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { FleetConfig } from '../../fleet/config.ts';
import { defineStorefleet, type StorefleetStacks } from '../../infra/define-storefleet.ts';
import { loadFleetConfigFile, readDeployContext } from '../../infra/deploy-context.ts';

const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURE_HANDLER = 'test/infra/fixtures/handler.ts';
export const EXAMPLE_CONFIG = 'config/fleet.example.json';

/** The feature flags `cdk synth` gets from cdk.json, so that tests build what deploys. */
export function cdkJsonContext(): Record<string, unknown> {
  return JSON.parse(readFileSync(join(ROOT, 'cdk.json'), 'utf8')).context;
}

/** An App as `cdk synth` would make it, with extra context; bundling is skipped unless asked for. */
export function testApp(context: Record<string, unknown> = {}, bundle = false): App {
  return new App({
    context: {
      ...cdkJsonContext(),
      ...(bundle ? {} : { 'aws:cdk:bundling-stacks': [] }),
      ...context,
    },
  });
}

export interface SynthesizedFleet {
  app: App;
  config: FleetConfig;
  stacks: StorefleetStacks;
  /** Every stack of the app, control stack first. */
  all: Stack[];
  templates: Map<Stack, Template>;
  template(stack: Stack): Template;
}

/** Synthesises the whole app once; share the result across the tests of a file. */
export function synthesizeFleet(context: Record<string, unknown> = {}): SynthesizedFleet {
  const app = testApp({ lambdaEntryOverride: FIXTURE_HANDLER, ...context });
  const deployContext = readDeployContext(app.node);
  const config = loadFleetConfigFile(deployContext.configPath);
  const stacks = defineStorefleet(app, config, deployContext);
  const all: Stack[] = [stacks.control, ...stacks.regions.values()];
  app.synth();
  const templates = new Map(all.map((stack) => [stack, Template.fromStack(stack)]));
  return {
    app,
    config,
    stacks,
    all,
    templates,
    template: (stack) => templates.get(stack) as Template,
  };
}

/** Template JSON is untyped; tests read it the way CloudFormation documents it. */
// biome-ignore lint/suspicious/noExplicitAny: one alias for untyped CloudFormation JSON instead of casts everywhere
export type CfnJson = any;

/** The resources of one type in a template, as plain objects. */
export function resourcesOf(
  template: Template,
  type: string,
): Array<{ id: string; Properties: CfnJson }> {
  return Object.entries(template.findResources(type)).map(([id, resource]) => ({
    id,
    Properties: (resource as { Properties?: unknown }).Properties ?? {},
  }));
}
