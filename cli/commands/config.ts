// `storefleet config check [FILE]`: validates a fleet config and says what is wrong, field by field.
import type { Command } from 'commander';
import { loadFleetConfig } from '../../local/config-file.ts';

export const DEFAULT_CONFIG_PATH = 'config/fleet.example.json';

export function registerConfigCommands(program: Command): void {
  const config = program.command('config').description('Work with fleet config files');
  config
    .command('check')
    .description(
      'Validate a fleet config file; exits 2 and names each bad field when it is invalid',
    )
    .argument('[file]', 'fleet config (JSON)', DEFAULT_CONFIG_PATH)
    .action(async (file: string) => {
      const fleet = await loadFleetConfig(file);
      console.log(
        `${file}: ok (fleet ${fleet.fleet}, ${fleet.nodes.length} nodes in ${Object.keys(fleet.locations).length} locations, ${fleet.vantagePoints.length} vantage points)`,
      );
    });
}
