/**
 * GetCallerIdentity: who the caller is. Overcast's credentials are the account's own
 * (root) credentials, so the answer is what AWS gives for root: the account id as the
 * UserId and `arn:aws:iam::<account>:root`.
 */
import type { GetCallerIdentityRequest, GetCallerIdentityResponse } from '@aws-sdk/client-sts';
import { action, type ApiModule } from '../context.js';

const getCallerIdentity = action((ctx, _input: GetCallerIdentityRequest): GetCallerIdentityResponse => ({
  UserId: ctx.accountId,
  Account: ctx.accountId,
  Arn: `arn:aws:iam::${ctx.accountId}:root`,
}));

export const callerIdentityModule: ApiModule = {
  actions: { GetCallerIdentity: getCallerIdentity },
};
