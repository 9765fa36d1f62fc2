import { digestAuthorization, digestChallenge } from './auth';
import { Progress, table } from './output';
import { CliError, parseFilter } from './protocol';
import { parseXml } from './xml';

describe('cimi client pieces', () => {
  it('Digest MD5 qop=auth gives the response of RFC 7616 §3.9.1', () => {
    const header =
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", ' +
      'Digest realm="http-auth@example.org", qop="auth, auth-int", algorithm=MD5, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS", Basic realm="x"';
    const ch = digestChallenge(header)!;
    expect(ch).toMatchObject({ algorithm: 'MD5', qop: 'auth', realm: 'http-auth@example.org' });
    const auth = digestAuthorization(ch, 'Mufasa', 'Circle of Life', 'GET', '/dir/index.html', 1, 'f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ');
    expect(auth).toContain('response="8ca523f5e9506fed4657c9700eebdbec"');
    expect(auth).toContain('nc=00000001');
    expect(digestChallenge('Basic realm="x"')).toBeUndefined();
  });

  it('reads the $filter subset SOAP and WQL can carry, and refuses the rest as usage', () => {
    expect(parseFilter("name='web''1' and cpu>=2 and property['tier']!='db'")).toEqual({
      combine: 'all',
      conditions: [
        { attribute: 'name', property: false, op: 'eq', value: "web'1", kind: 'string' },
        { attribute: 'cpu', property: false, op: 'ge', value: 2, kind: 'int' },
        { attribute: 'tier', property: true, op: 'ne', value: 'db', kind: 'string' },
      ],
    });
    expect(parseFilter("state='STARTED' or state='STOPPED'").combine).toBe('any');
    for (const bad of ["a='1' and b='2' or c='3'", "(a='1')", 'a=b', "a=='1'"]) expect(() => parseFilter(bad)).toThrow(CliError);
  });

  it('draws a progress bar on a terminal and plain lines otherwise', () => {
    const sink = (isTTY: boolean) => {
      const out: string[] = [];
      return { out, stream: { isTTY, write: (s: string) => out.push(s) } as unknown as NodeJS.WriteStream };
    };
    const job = (state: string, progress: number) => ({ id: 'j1', state, progress, handle: 'j1', doc: {} });
    const tty = sink(true);
    const p = new Progress(tty.stream);
    p.update(job('RUNNING', 50), false);
    p.update(job('SUCCESS', 100), true);
    p.done();
    expect(tty.out).toEqual(['\r[##########..........]  50% RUNNING  ', '\r[####################] 100% SUCCESS  ', '\n']);
    const pipe = sink(false);
    const q = new Progress(pipe.stream);
    q.update(job('RUNNING', 50), false);
    q.update(job('RUNNING', 50), false);
    q.update(job('SUCCESS', 100), true);
    q.done();
    expect(pipe.out).toEqual(['job j1: RUNNING 50%\n']);
  });

  it('shows id, name and state columns under one heading for every protocol', () => {
    expect(table([{ InstanceID: 'CIMIGW:1', ElementName: 'a', JobState: 7 }]).split('\n')).toEqual(['ID        NAME  STATE', 'CIMIGW:1  a     7']);
    expect(table([{ id: 'x', name: 'n', cpu: 2 }], ['cpu'])).toBe('CPU\n2');
    // a CIMIGW_Meter: its key is Id (DSP1053 CIM_BaseMetricDefinition), not its Name (the metric)
    expect(table([{ Id: 'CIMIGW:meter:m1', Name: 'cpu.time', ElementName: 'cpu.time of Machine x' }]).split('\n')).toEqual(['ID               NAME', 'CIMIGW:meter:m1  cpu.time of Machine x']);
  });

  it('refuses an answer with a DTD before parsing it, and names what it was reading', () => {
    const bomb = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]><r>&b;</r>';
    expect(() => parseXml(bomb, 'Get')).toThrow(/Get: .*DTD/);
    expect(parseXml('<r xmlns="urn:x"><a>1</a></r>', 'Get').documentElement?.localName).toBe('r');
  });
});
