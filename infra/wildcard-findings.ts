// Acknowledges cdk-nag's wildcard findings (AwsSolutions-IAM5) by pattern, so that an acknowledgement holds whether the account is a token or a literal id.
import { Aspects, CfnResource, type IAspect, Validations } from 'aws-cdk-lib';
import { rules as nagRules } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/** One kind of wildcard a role is allowed, and why. */
export interface WildcardAllowance {
  /** Matches the finding as cdk-nag spells it, e.g. `Resource::arn:<AWS::Partition>:ecs:eu-central-1:123456789012:task/c/*`. */
  finding: RegExp;
  reason: string;
}

const IAM_POLICY_TYPES = new Set(['AWS::IAM::Policy', 'AWS::IAM::Role', 'AWS::IAM::ManagedPolicy']);

/**
 * cdk-nag spells an ARN with the literal account when the stack has one and `<AWS::AccountId>`
 * otherwise, so fixed acknowledgement ids break as soon as `-c account=...` is given (the README's
 * deploy command). This runs cdk-nag's own rule on each policy under `scope` once every statement
 * is in place and acknowledges the findings that an allowance matches; anything else still fails.
 */
export function acknowledgeWildcards(scope: IConstruct, allowances: WildcardAllowance[]): void {
  const aspect: IAspect = {
    visit(node: IConstruct) {
      if (!(node instanceof CfnResource) || !IAM_POLICY_TYPES.has(node.cfnResourceType)) return;
      const findings = nagRules.iam.IAMNoWildcardPermissions(node);
      if (!Array.isArray(findings)) return;
      for (const finding of findings) {
        const allowance = allowances.find((candidate) => candidate.finding.test(finding));
        if (allowance) {
          Validations.of(node).acknowledge({
            id: `AwsSolutions-IAM5[${finding}]`,
            reason: allowance.reason,
          });
        }
      }
    },
  };
  Aspects.of(scope).add(aspect);
}

/** `arn:<AWS::Partition>:{service}:{region}:{account or token}:{resource}`, as a finding pattern. */
export function arnFinding(service: string, resource: string): RegExp {
  const escaped = resource.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(
    `^Resource::arn:<AWS::Partition>:${service}:[a-z0-9-]*:(\\d{12}|<AWS::AccountId>):${escaped}$`,
  );
}
