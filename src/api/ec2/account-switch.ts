/** Enable/Disable calls that set one on/off account setting of the region and answer it. */
import { updateAccountSettings, type AccountSettingsRecord } from '../../resources/ec2/account-settings.js';
import { action, type ActionHandler } from '../context.js';

type Switch = { [K in keyof AccountSettingsRecord]-?: AccountSettingsRecord[K] extends boolean ? K : never }[keyof AccountSettingsRecord];

/** The handler that sets `key` to `on` and answers `{ [member]: the new value }`. */
export function settingSwitch(key: Switch, on: boolean, member: string): ActionHandler {
  return action((ctx, _input: { DryRun?: boolean }): Record<string, boolean> => {
    const s = updateAccountSettings(ctx, (x) => {
      x[key] = on;
    });
    return { [member]: s[key] };
  });
}
