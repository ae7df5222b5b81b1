/** EC2's XML error document for an `Ec2Error` (the error itself is domain/errors.ts). */
import type { Ec2Error } from '../domain/errors.js';

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
