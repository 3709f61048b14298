// Reads a fleet config file from disk; the only place outside infra/ that touches the file.
import { readFile } from 'node:fs/promises';
import { type FleetConfig, FleetConfigError, parseFleetConfigText } from '../fleet/config.ts';

export async function loadFleetConfig(path: string): Promise<FleetConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new FleetConfigError([`cannot read the file: ${(error as Error).message}`], path);
  }
  return parseFleetConfigText(text, path);
}
