/**
 * Just enough DER for the identity document's PKCS#7 forms
 * (dynamic/instance-identity/rsa2048 and pkcs7): a self-signed X.509
 * certificate for the service's RSA key (what a verifier is given, as AWS
 * publishes its regions' certificates), and a PKCS#7 SignedData holding the
 * document, signed with RSA SHA-256 by that certificate's key, without signed
 * attributes (so its signature is the document's plain RSA SHA-256 signature).
 *
 * Verify as on EC2:
 *   openssl smime -verify -in rsa2048.pem -inform PEM -certfile cert.pem -noverify
 * where rsa2048.pem is the answer between -----BEGIN PKCS7----- / -----END PKCS7----- lines.
 *
 * The certificate is made deterministically from the key (fixed serial,
 * names and validity; PKCS#1 v1.5 signatures are deterministic): the same key
 * always gives the same certificate, so nothing but the key needs keeping.
 */
import { createPublicKey, sign, type KeyObject } from 'node:crypto';

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, ...content: Buffer[]): Buffer => {
  const body = Buffer.concat(content);
  return Buffer.concat([Buffer.from([tag]), length(body.length), body]);
};
const seq = (...c: Buffer[]) => tlv(0x30, ...c);
const set = (...c: Buffer[]) => tlv(0x31, ...c);
const explicit = (n: number, ...c: Buffer[]) => tlv(0xa0 + n, ...c);
const octets = (b: Buffer) => tlv(0x04, b);
const bitString = (b: Buffer) => tlv(0x03, Buffer.from([0]), b);
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const printable = (s: string) => tlv(0x13, Buffer.from(s, 'ascii'));
const generalizedTime = (s: string) => tlv(0x18, Buffer.from(s, 'ascii'));
const NULL = Buffer.from([0x05, 0x00]);

function integer(n: number): Buffer {
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  if (bytes.length === 0 || bytes[0]! & 0x80) bytes.unshift(0);
  return tlv(0x02, Buffer.from(bytes));
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = Math.floor(p / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

const OID = {
  sha256: '2.16.840.1.101.3.4.2.1',
  rsaEncryption: '1.2.840.113549.1.1.1',
  sha256WithRsa: '1.2.840.113549.1.1.11',
  data: '1.2.840.113549.1.7.1',
  signedData: '1.2.840.113549.1.7.2',
  countryName: '2.5.4.6',
  organizationName: '2.5.4.10',
  commonName: '2.5.4.3',
} as const;

const algorithm = (o: string) => seq(oid(o), NULL);

/** The certificate the identity document's PKCS#7 signatures are made under. */
export interface SigningCertificate {
  /** DER */
  der: Buffer;
  /** PEM (-----BEGIN CERTIFICATE-----) */
  pem: string;
  /** the issuer Name (DER) and serial, which the SignedData names its signer by */
  issuer: Buffer;
  serial: number;
}

const SERIAL = 1;
const NAME = seq(
  set(seq(oid(OID.countryName), printable('US'))),
  set(seq(oid(OID.organizationName), utf8('Overcast'))),
  set(seq(oid(OID.commonName), utf8('Overcast instance metadata'))),
);

function pem(label: string, der: Buffer): string {
  const b64 = der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}

/** A self-signed certificate for `key` (RSA), the same every time for the same key. */
export function signingCertificate(key: KeyObject): SigningCertificate {
  const spki = createPublicKey(key).export({ type: 'spki', format: 'der' });
  const tbs = seq(
    explicit(0, integer(2)), // v3
    integer(SERIAL),
    algorithm(OID.sha256WithRsa),
    NAME,
    seq(generalizedTime('20240101000000Z'), generalizedTime('20491231235959Z')),
    NAME,
    spki,
  );
  const der = seq(tbs, algorithm(OID.sha256WithRsa), bitString(sign('sha256', tbs, key)));
  return { der, pem: pem('CERTIFICATE', der), issuer: NAME, serial: SERIAL };
}

/**
 * PKCS#7 SignedData carrying `document`, signed (RSA SHA-256, no signed
 * attributes) by the certificate's key; base64 in lines of 64, without PEM
 * armour, as EC2 answers dynamic/instance-identity/rsa2048.
 */
export function signedDocument(document: string, key: KeyObject, cert: SigningCertificate): string {
  const content = Buffer.from(document, 'utf8');
  const signerInfo = seq(
    integer(1),
    seq(cert.issuer, integer(cert.serial)),
    algorithm(OID.sha256),
    algorithm(OID.rsaEncryption),
    octets(sign('sha256', content, key)),
  );
  const signedData = seq(
    integer(1),
    set(algorithm(OID.sha256)),
    seq(oid(OID.data), explicit(0, octets(content))),
    set(signerInfo),
  );
  const der = seq(oid(OID.signedData), explicit(0, signedData));
  return der.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
}
