import { requireOperation } from '../../../model/operations';
import { InvalidStateError, isModelError } from '../../../model/shared/model-error';
import { childElements, textOf, xmlEscape } from '../../xml/xml-hardening';
import { renderEprContent } from '../cim-render';
import { requireClass, type WsmanCall, type WsmanReply } from '../wsman-dispatcher';
import { WsmanFault } from '../wsman-fault';
import { NS } from '../wsman-ns';
import { addressedInstance } from './transfer';
import { keySelectors } from '../cim-instances';

/**
 * CIM_EnabledLogicalElement.RequestStateChange (docs/wsman.md §5.3) → MachineService.act: RequestedState 2 start
 * (also resumes PAUSED/SUSPENDED), 3 forced stop, 4 graceful stop, 6 suspend, 9 pause, 10 restart, 11 forced restart.
 */
export const REQUESTED_STATE_ACTIONS: Readonly<Record<number, { action: string; force?: boolean }>> = {
  2: { action: 'start' },
  3: { action: 'stop', force: true },
  4: { action: 'stop', force: false },
  6: { action: 'suspend' },
  9: { action: 'pause' },
  10: { action: 'restart', force: false },
  11: { action: 'restart', force: true },
};

// each mapped action is a catalogue operation of Machine: a renamed or removed action fails at load, not at a call
for (const m of Object.values(REQUESTED_STATE_ACTIONS)) requireOperation(`Machine.${m.action}`);

/** A CIMIGW_Meter's RequestedState values: 2 Enabled = start, 3 Disabled = stop (DSP0263 2.0.0 §5.17.3.2) */
export const METER_REQUESTED_STATES: Readonly<Record<number, 'start' | 'stop'>> = { 2: 'start', 3: 'stop' };
for (const a of Object.values(METER_REQUESTED_STATES)) requireOperation(`Meter.${a}`);

/** CIM method return values of RequestStateChange (CIM_EnabledLogicalElement ValueMap). */
export const RETURN = { completed: 0, notSupported: 1, jobStarted: 4096, invalidTransition: 4097, timeoutUnsupported: 4098, busy: 4099 } as const;

export async function requestStateChange(call: WsmanCall): Promise<WsmanReply> {
  const requested = requireClass(call)!;
  const inst = await addressedInstance(call);
  const el = call.req.payload;
  // DSP0226 §9, DSP0227: the INPUT element is in the namespace of the class's resource URI; any URI the catalogue
  // resolves to a class of the instance's lineage counts, the WMI-style alias included (docs/wsman.md §7 item 15)
  const inputCls = el?.namespaceURI ? call.catalogue.byUri(el.namespaceURI) : undefined;
  if (!el || el.localName !== 'RequestStateChange_INPUT' || !inputCls || !inst.cls.lineage.includes(inputCls)) {
    throw new WsmanFault('InvalidParameter', `the Body must be a RequestStateChange_INPUT in ${requested.uri}`, { detail: 'InvalidName' });
  }
  // the OUTPUT is in the namespace the client named the addressed class by (its alias, as WMI answers), else the class's
  const outNs = inputCls === requested ? el.namespaceURI! : requested.uri;
  const params = childElements(el);
  for (const p of params) {
    if (p.namespaceURI !== el.namespaceURI || !['RequestedState', 'TimeoutPeriod'].includes(p.localName ?? '')) {
      throw new WsmanFault('InvalidParameter', `RequestStateChange has no parameter ${p.localName}`, { detail: 'InvalidName' });
    }
  }
  const rsEl = params.find((p) => p.localName === 'RequestedState');
  const rsText = textOf(rsEl).trim();
  if (!rsEl || !/^\d{1,5}$/.test(rsText) || Number(rsText) > 65535) {
    throw new WsmanFault('InvalidParameter', 'RequestedState must be a uint16', { detail: 'TypeMismatch' });
  }
  const out = (returnValue: number, jobXml = '') => ({
    body: `<p:RequestStateChange_OUTPUT xmlns:p="${xmlEscape(outNs)}">${jobXml}<p:ReturnValue>${returnValue}</p:ReturnValue></p:RequestStateChange_OUTPUT>`,
  });
  const timeout = params.find((p) => p.localName === 'TimeoutPeriod');
  // CIM: a non-NULL TimeoutPeriod the implementation cannot honour is 4098
  if (timeout && !['true', '1'].includes(timeout.getAttributeNS(NS.xsi, 'nil') ?? '') && textOf(timeout).trim()) return out(RETURN.timeoutUnsupported);
  if (inst.cls.model === 'Meter') {
    const action = METER_REQUESTED_STATES[Number(rsText)];
    if (!action) return out(RETURN.notSupported);
    if (call.ctx.audit) call.ctx.audit.verb = requireOperation(`Meter.${action}`).audit;
    try {
      // the Job is finished when written (no provider step): Completed, no Job reference
      await call.services.meters.act(call.ctx, inst.source.id, action);
      return out(RETURN.completed);
    } catch (e) {
      if (isModelError(e) && e.kind === 'invalid-state') return out(RETURN.invalidTransition);
      throw e;
    }
  }
  const mapped = REQUESTED_STATE_ACTIONS[Number(rsText)];
  if (!mapped) return out(RETURN.notSupported);
  if (call.ctx.audit) call.ctx.audit.verb = requireOperation(`Machine.${mapped.action}`).audit;
  try {
    const params = mapped.force === undefined ? {} : { force: mapped.force };
    const r = await call.services.model.act(call.ctx, 'Machine', inst.source.id, mapped.action, params);
    if (r.completed) return out(RETURN.completed);
    const jobCls = call.catalogue.byModel('Job')!;
    return out(RETURN.jobStarted, `<p:Job>${renderEprContent(jobCls, keySelectors(jobCls, r.job))}</p:Job>`);
  } catch (e) {
    // docs/wsman.md §5.3: a refused transition is a method result, not a fault; one in progress is Busy
    if (isModelError(e) && e.kind === 'invalid-state') return out(e instanceof InvalidStateError && e.busy ? RETURN.busy : RETURN.invalidTransition);
    throw e;
  }
}
