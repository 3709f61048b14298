// The stack of the registry's replica region: one bucket that S3 replicates the registry into.
import type { Construct } from 'constructs';
import { OfflineStack, type OfflineStackProps, tagComponent } from './OfflineStack.ts';
import { RegistryReplica } from './RegistryReplica.ts';

export class RegistryReplicaStack extends OfflineStack {
  readonly replica: RegistryReplica;

  constructor(scope: Construct, id: string, props: OfflineStackProps) {
    super(scope, id, props);
    this.replica = new RegistryReplica(this, 'Registry', { fleet: props.fleet });
    tagComponent(this.replica, 'registry');
  }
}
