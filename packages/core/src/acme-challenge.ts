// Where an ACME CA asks for HTTP-01 answers: the embedded proxy, the admin
// listener (behind nginx) and the ACME package all match this one prefix.
export const ACME_CHALLENGE_PREFIX = '/.well-known/acme-challenge/';
