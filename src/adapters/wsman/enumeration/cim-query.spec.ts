import { loadCatalogue } from '../cim-catalogue';
import { parseCimDatetime, propertyResolver, selectorFilter } from './cim-query';
import { parseWql, toFilterExpr, WqlError } from './wql';

const cat = loadCatalogue();
const machine = cat.byModel('Machine')!;
const volume = cat.byModel('Volume')!;
const job = cat.byModel('Job')!;
const network = cat.byModel('Network')!;

const where = (cls: typeof machine, q: string) => toFilterExpr(parseWql(`select * from ${cls.name} where ${q}`), propertyResolver(cls, 'tenant-1'));
const states = (t: ReturnType<typeof where>): string[] => {
  const out: string[] = [];
  const walk = (e: unknown) => {
    const x = e as { kind: string; left?: unknown; right?: unknown; attr?: string; value?: string };
    if (x.kind === 'cmp' && x.attr === 'state') out.push(x.value!);
    if (x.left) walk(x.left);
    if (x.right) walk(x.right);
  };
  if (t.match === 'filter') walk(t.filter);
  return out.sort();
};

describe('CIM properties in model terms (from wsman/classes.json sources)', () => {
  it('EnabledState (a converter of the state alone) becomes the set of machine states that produce the value', () => {
    // docs/wsman.md §5.3: 2 = STARTED, and PAUSING/SUSPENDING keep the source state's value
    expect(states(where(machine, 'EnabledState = 2'))).toEqual(['PAUSING', 'STARTED', 'SUSPENDING']);
    expect(states(where(machine, 'EnabledState = 1'))).toEqual(['CREATING', 'DELETING']);
    expect(where(machine, 'EnabledState = 3').match).toBe('filter');
    // array property: OperationalStatus = 10 means "contains 10" (STOPPED)
    expect(states(where(machine, 'OperationalStatus = 10'))).toEqual(['STOPPED']);
    expect(where(machine, 'EnabledState = 77')).toEqual({ match: 'none' });
    expect(states(where(volume, 'EnabledState = 2'))).toEqual(['AVAILABLE', 'CAPTURING']);
    expect(states(where(job, 'JobState = 7'))).toEqual(['SUCCESS']);
  });

  it('keys: Name is the id; InstanceID carries the prefix; CreationClassName names the class or a superclass', () => {
    expect(where(machine, "Name = 'abc'")).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'id', op: '=', value: 'abc' } });
    expect(where(network, "InstanceID = 'CIMIGW:abc'")).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'id', op: '=', value: 'abc' } });
    expect(where(network, "InstanceID = 'abc'")).toEqual({ match: 'none' });
    expect(where(machine, "CreationClassName = 'CIM_ComputerSystem'")).toEqual({ match: 'all' });
    expect(where(machine, `CreationClassName = '${machine.name}'`)).toEqual({ match: 'all' });
    expect(where(machine, "CreationClassName = 'CIM_LogicalDisk'")).toEqual({ match: 'none' });
    expect(where(volume, "SystemName = 'tenant-1'")).toEqual({ match: 'all' });
    expect(where(volume, "SystemName = 'tenant-2'")).toEqual({ match: 'none' });
  });

  it('typed attributes: numbers are ordered, datetimes accept ISO and the CIM form, names and descriptions compare as text', () => {
    expect(where(machine, 'Cpu >= 4')).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'cpu', op: '>=', value: 4 } });
    expect(where(job, 'PercentComplete < 50')).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'progress', op: '<', value: 50 } });
    expect(where(machine, "InstallDate > '2026-01-02T03:04:05Z'")).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'created', op: '>', value: new Date('2026-01-02T03:04:05Z') } });
    expect(parseCimDatetime('20260102030405.000000+060')).toEqual(new Date('2026-01-02T02:04:05Z'));
    expect(where(volume, "ElementName = 'data'")).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'name', op: '=', value: 'data' } });
  });

  it.each([
    [machine, "Cpu = 'four'", 'is a number'],
    [machine, "InstallDate > 'yesterday'", 'not a datetime'],
    [machine, "CreationClassName > 'A'", 'operator >'],
    [machine, "MachineImage = 'x'", 'not a filterable'],
    [machine, "MachineConfiguration = 'x'", 'not a filterable'],
    [job, "Name = 'x'", 'not a filterable'],
  ])('rejects %#', (cls, q, why) => {
    expect(() => where(cls, q)).toThrow(WqlError);
    expect(() => where(cls, q)).toThrow(new RegExp(why));
  });

  it('selector filter: key selectors only, names case-insensitive', () => {
    expect(selectorFilter(machine, 't', [{ name: 'name', value: 'abc' }])).toEqual({ match: 'filter', filter: { kind: 'cmp', attr: 'id', op: '=', value: 'abc' } });
    expect(selectorFilter(machine, 't', [{ name: 'CreationClassName', value: 'CIM_ComputerSystem' }])).toEqual({ match: 'all' });
    expect(() => selectorFilter(machine, 't', [{ name: 'ElementName', value: 'x' }])).toThrow(/not a key/);
    expect(() => selectorFilter(machine, 't', [])).toThrow(WqlError);
  });
});
