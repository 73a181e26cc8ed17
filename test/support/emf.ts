/**
 * Captures the CloudWatch embedded metric format records a test's handlers print: turns
 * Powertools metrics on (namespace sdp) with `env` besides, in beforeAll, and collects every EMF
 * record Powertools writes (through a Console of its own on stdout) into the returned array.
 */
export function captureEmf(env: Record<string, string> = {}): Record<string, unknown>[] {
  const emf: Record<string, unknown>[] = [];
  beforeAll(() => {
    Object.assign(process.env, { POWERTOOLS_METRICS_DISABLED: 'false', POWERTOOLS_METRICS_NAMESPACE: 'sdp' }, env);
    jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      const text = chunk.toString();
      if (text.includes('"_aws"')) emf.push(JSON.parse(text));
      return true;
    });
  });
  return emf;
}
