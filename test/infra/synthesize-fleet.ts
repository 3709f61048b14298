// Builds the storefleet app for template tests: the example config or a generated one, cdk.json's feature flags, no bundling.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, NestedStack, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { type FleetConfig, type FleetConfigInput, parseFleetConfig } from '../../fleet/config.ts';
import { defineStorefleet, type StorefleetStacks } from '../../infra/define-storefleet.ts';
import { loadFleetConfigFile, readDeployContext } from '../../infra/deploy-context.ts';

export const ROOT = join(import.meta.dirname, '..', '..');
export const FIXTURE_HANDLER = 'test/infra/fixtures/handler.ts';
export const EXAMPLE_CONFIG = 'config/fleet.example.json';
/** The account every synth test deploys to: a concrete one, as `-c account=...` gives it. */
export const TEST_ACCOUNT = '123456789012';

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
  /** Every top-level stack of the app, control stack first. */
  all: Stack[];
  /** Every nested stack (the node groups). */
  nested: NestedStack[];
  template(stack: Stack): Template;
  /** Every template, top-level and nested, with the stack it belongs to. */
  everyTemplate(): Array<{ stack: Stack; template: Template }>;
}

/** The example config as JSON, to derive test configs from. */
export function exampleConfigInput(): FleetConfigInput {
  return JSON.parse(readFileSync(join(ROOT, EXAMPLE_CONFIG), 'utf8'));
}

/**
 * `perRegion` nodes in each of the example's three regions: ids `store-NN.{location}` in
 * locations of at most 50 nodes (node numbers have two digits).
 */
export function configWithNodesPerRegion(
  perRegion: number | Record<string, number>,
  overrides: Partial<FleetConfigInput> = {},
): FleetConfig {
  const example = exampleConfigInput();
  const locations: FleetConfigInput['locations'] = {};
  const nodes: FleetConfigInput['nodes'] = [];
  for (const [name, location] of Object.entries(example.locations)) {
    const count = typeof perRegion === 'number' ? perRegion : (perRegion[location.region] ?? 0);
    for (let part = 0; part * 50 < count; part += 1) {
      const locationName = part === 0 ? name : `${name}-${part + 1}`;
      locations[locationName] = location;
      for (let index = 1; index <= Math.min(50, count - part * 50); index += 1) {
        nodes.push({
          id: `store-${String(index).padStart(2, '0')}.${locationName}.${example.fleet}`,
          location: locationName,
        });
      }
    }
  }
  return parseFleetConfig({ ...example, locations, nodes, ...overrides });
}

/**
 * aws-cdk-lib's built-in template validation takes ~15 s per app on this machine; template tests
 * check templates themselves (cfn-lint among them), and the README test runs the app with it on.
 */
export function synthWithoutBuiltinValidation(app: App): void {
  const previous = process.env.CDK_VALIDATION;
  process.env.CDK_VALIDATION = 'false';
  try {
    app.synth();
  } finally {
    if (previous === undefined) delete process.env.CDK_VALIDATION;
    else process.env.CDK_VALIDATION = previous;
  }
}

/** Synthesises the whole app once; share the result across the tests of a file. */
export function synthesizeFleet(
  context: Record<string, unknown> = {},
  config?: FleetConfig,
): SynthesizedFleet {
  const app = testApp({ lambdaEntryOverride: FIXTURE_HANDLER, account: TEST_ACCOUNT, ...context });
  const deployContext = readDeployContext(app.node);
  const chosen = config ?? loadFleetConfigFile(deployContext.configPath);
  const stacks = defineStorefleet(app, chosen, deployContext);
  const all: Stack[] = [
    stacks.control,
    ...stacks.regions.values(),
    ...(stacks.replica ? [stacks.replica] : []),
  ];
  synthWithoutBuiltinValidation(app);
  const nested = app.node
    .findAll()
    .filter((construct): construct is NestedStack => construct instanceof NestedStack);
  const templates = new Map<Stack, Template>();
  const template = (stack: Stack) => {
    let found = templates.get(stack);
    if (!found) {
      found = Template.fromStack(stack);
      templates.set(stack, found);
    }
    return found;
  };
  return {
    app,
    config: chosen,
    stacks,
    all,
    nested,
    template,
    everyTemplate: () => [...all, ...nested].map((stack) => ({ stack, template: template(stack) })),
  };
}

/** Template JSON is untyped; tests read it the way CloudFormation documents it. */
// biome-ignore lint/suspicious/noExplicitAny: one alias for untyped CloudFormation JSON instead of casts everywhere
export type CfnJson = any;

/** The resources of one type in a template, as plain objects. */
export function resourcesOf(
  template: Template,
  type: string,
): Array<{ id: string; Properties: CfnJson; DependsOn?: string[] }> {
  return Object.entries(template.findResources(type)).map(([id, resource]) => ({
    id,
    Properties: (resource as { Properties?: unknown }).Properties ?? {},
    DependsOn: (resource as { DependsOn?: string[] }).DependsOn,
  }));
}

/** The resources of one type across every template of a synthesised fleet. */
export function everyResourceOf(
  fleet: SynthesizedFleet,
  type: string,
): Array<{ stack: Stack; id: string; Properties: CfnJson; DependsOn?: string[] }> {
  return fleet
    .everyTemplate()
    .flatMap(({ stack, template }) =>
      resourcesOf(template, type).map((resource) => ({ stack, ...resource })),
    );
}

/** Whether `value` (template JSON) mentions `text` anywhere, in a string or a Fn::Join. */
export function mentions(value: unknown, text: string): boolean {
  return JSON.stringify(value).includes(text);
}
