// A stack that synthesises with a concrete account and region but no credentials: its AZs are spelled out, never looked up.
import { Stack, type StackProps, Tags } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** Tag keys every resource carries; the values say which fleet and which part of it. */
export const TAGS = { fleet: 'storefleet:fleet', component: 'storefleet:component' } as const;

/**
 * aws-cdk-lib tags these, but CloudFormation's published schemas (what cfn-lint checks) have no
 * Tags property for them yet.
 */
// CloudFormation accepts no Tags on these (cfn-lint E3002).
const UNTAGGABLE = [
  'AWS::ElasticLoadBalancingV2::Listener',
  'AWS::CloudWatch::Dashboard',
  'AWS::ApplicationAutoScaling::ScalableTarget',
];

/** AZ letters a region may have; a VPC picks its own among them from the config. */
const ZONE_LETTERS = 'abcdef';

export interface OfflineStackProps extends StackProps {
  /** The fleet name, tagged on every resource. */
  fleet: string;
  /** The stack's region, always concrete. */
  region: string;
}

export class OfflineStack extends Stack {
  readonly #zones: string[];

  constructor(scope: Construct, id: string, props: OfflineStackProps) {
    super(scope, id, { ...props, env: { account: props.env?.account, region: props.region } });
    this.#zones = [...ZONE_LETTERS].map((letter) => `${props.region}${letter}`);
    Tags.of(this).add(TAGS.fleet, props.fleet, { excludeResourceTypes: UNTAGGABLE });
  }

  /**
   * With a concrete account, Stack would look the region's AZs up (credentials needed) to check the
   * VPCs' explicit AZs against them. The VPCs name their AZs from the config; the check is left to
   * CloudFormation, which refuses an AZ the region lacks.
   */
  override get availabilityZones(): string[] {
    return this.#zones;
  }
}

/** Tags a construct's resources with the part of the fleet they belong to. */
export function tagComponent(scope: Construct, component: string): void {
  Tags.of(scope).add(TAGS.component, component, { excludeResourceTypes: UNTAGGABLE });
}
