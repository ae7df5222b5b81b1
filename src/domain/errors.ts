/**
 * The error a rule raises when a request cannot be carried out: EC2's error code
 * (`InvalidVpcID.NotFound`, `IncorrectInstanceState`…), its message and the HTTP
 * status. Domain rules, resources and handlers throw it; the protocol layer turns
 * it into the wire's error document. It knows no wire format.
 */
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
