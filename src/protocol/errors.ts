/** An EC2 API error: code and message as EC2 gives them, and the HTTP status. */
export class Ec2Error extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'Ec2Error';
  }
}

export const dryRunSucceeded = (): Ec2Error =>
  new Ec2Error('DryRunOperation', 'Request would have succeeded, but DryRun flag is set.', 412);

export const missingParameter = (name: string): Ec2Error =>
  new Ec2Error('MissingParameter', `The request must contain the parameter ${name}`);

export const invalidParameterValue = (message: string): Ec2Error => new Ec2Error('InvalidParameterValue', message);

export const invalidParameterCombination = (message: string): Ec2Error =>
  new Ec2Error('InvalidParameterCombination', message);

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) =>
    c === '&' ? '&amp;' : c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '"' ? '&quot;' : '&apos;',
  );
}

/** The EC2 error document (`<Response><Errors><Error>…`). */
export function errorXml(err: Ec2Error, requestId: string): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>' +
    escapeXml(err.code) +
    '</Code><Message>' +
    escapeXml(err.message) +
    '</Message></Error></Errors><RequestID>' +
    requestId +
    '</RequestID></Response>'
  );
}
