/** The error documents of each wire protocol for an `Ec2Error` (the error itself is domain/errors.ts). */
import { Ec2Error } from '../domain/errors.js';

/**
 * Characters XML 1.0 cannot carry, even escaped: C0 controls but tab, LF and CR,
 * U+FFFE and U+FFFF, and surrogates not in a pair. They go out as U+FFFD.
 */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
const XML_TEXT = /[&<>"'\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g;
const XML_REPLACEMENT: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/** `s` with every unpaired surrogate replaced by U+FFFD (so it encodes as UTF-8 and JSON losslessly elsewhere). */
export function wellFormed(s: string): string {
  LONE_SURROGATE.lastIndex = 0;
  return LONE_SURROGATE.test(s) ? s.replace(LONE_SURROGATE, '\ufffd') : s;
}

/** `s` as XML 1.0 text: markup escaped, characters XML forbids replaced by U+FFFD. */
export function escapeXml(s: string): string {
  return wellFormed(s).replace(XML_TEXT, (c) => XML_REPLACEMENT[c] ?? '\ufffd');
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

/** The awsQuery error document (`<ErrorResponse><Error><Type>Sender</Type><Code>…`), as STS and CloudWatch send it. */
export function queryErrorXml(err: Ec2Error, requestId: string, xmlNamespace: string): string {
  return (
    `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse xmlns="${escapeXml(xmlNamespace)}"><Error><Type>` +
    (err.status >= 500 ? 'Receiver' : 'Sender') +
    '</Type><Code>' +
    escapeXml(err.code) +
    '</Code><Message>' +
    escapeXml(err.message) +
    '</Message></Error><RequestId>' +
    requestId +
    '</RequestId></ErrorResponse>'
  );
}

/** The awsJson error body: `{"__type":"ParameterNotFound","message":"…"}` (the code also goes in `x-amzn-ErrorType`). */
export function jsonErrorBody(err: Ec2Error): string {
  return JSON.stringify({ __type: wellFormed(err.code), message: wellFormed(err.message) });
}

/**
 * What the authentication and request-level errors the endpoint raises in EC2's words
 * (sigv4.ts, throttling, internal errors) are called by awsQuery and awsJson services,
 * and their HTTP status there. Errors a handler raises are the service's own and pass as
 * they are.
 */
const DIALECT_ERRORS: Record<'query' | 'json', Record<string, [code: string, status: number]>> = {
  query: {
    MissingAuthenticationToken: ['MissingAuthenticationToken', 403],
    AuthFailure: ['InvalidClientTokenId', 403],
    SignatureDoesNotMatch: ['SignatureDoesNotMatch', 403],
    RequestExpired: ['SignatureDoesNotMatch', 403],
    RequestLimitExceeded: ['Throttling', 400],
    InternalError: ['InternalFailure', 500],
    RequestEntityTooLarge: ['RequestEntityTooLarge', 413],
  },
  json: {
    MissingAuthenticationToken: ['MissingAuthenticationTokenException', 403],
    AuthFailure: ['UnrecognizedClientException', 403],
    SignatureDoesNotMatch: ['InvalidSignatureException', 403],
    RequestExpired: ['InvalidSignatureException', 403],
    RequestLimitExceeded: ['ThrottlingException', 400],
    InternalError: ['InternalServerError', 500],
    RequestEntityTooLarge: ['RequestEntityTooLargeException', 413],
    MissingParameter: ['ValidationException', 400],
    InvalidParameterValue: ['ValidationException', 400],
  },
};

/** `err` as an awsQuery or awsJson service names it (see DIALECT_ERRORS). */
export function inDialect(err: Ec2Error, dialect: 'query' | 'json'): Ec2Error {
  const mapped = DIALECT_ERRORS[dialect][err.code];
  if (!mapped) return err;
  const message = err.code === 'RequestExpired' ? `Signature expired: ${err.message}` : err.message;
  return new Ec2Error(mapped[0], message, mapped[1]);
}
