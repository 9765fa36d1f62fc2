import * as dbus from 'dbus-next';

/**
 * libvirt through its D-Bus API (libvirt-dbus, the libvirt project's binding; /usr/share/dbus-1/interfaces/
 * org.libvirt.*.xml): one system-bus connection, proxies cached by object path. A libvirt URI maps to the
 * connection object libvirt-dbus exports for it (qemu:///system → /org/libvirt/QEMU, test:///default →
 * /org/libvirt/Test).
 */
const CONNECTIONS: Record<string, string> = {
  'qemu:///system': '/org/libvirt/QEMU',
  'test:///default': '/org/libvirt/Test',
};
const DEST = 'org.libvirt';

export function connectionPath(uri: string): string {
  const p = CONNECTIONS[uri];
  if (!p) throw new Error(`LIBVIRT_URI ${uri} is not one libvirt-dbus exports on the system bus (${Object.keys(CONNECTIONS).join(', ')})`);
  return p;
}

/** a libvirt error as libvirt-dbus reports it (name org.libvirt.Error, libvirt's message as text) */
export class LibvirtCallError extends Error {
  constructor(
    readonly method: string,
    readonly dbusName: string,
    text: string,
  ) {
    super(`${method}: ${text}`);
    this.name = 'LibvirtCallError';
  }
  /** libvirt's "not found" family (VIR_ERR_NO_DOMAIN, NO_NETWORK, NO_STORAGE_VOL): text is all D-Bus carries */
  get notFound(): boolean {
    return /not found|no (domain|network|storage vol)/i.test(this.message);
  }
  /** the bus or libvirt-dbus / libvirtd is not there */
  get unavailable(): boolean {
    return this.dbusName.startsWith('org.freedesktop.DBus.Error') && !/UnknownMethod|InvalidArgs/.test(this.dbusName);
  }
}

type Iface = dbus.ClientInterface & Record<string, (...a: unknown[]) => Promise<unknown>>;
export type DomainEventListener = (domainName: string, event: number, detail: number) => void;

export class LibvirtDbus {
  private bus?: dbus.MessageBus;
  private readonly proxies = new Map<string, Promise<dbus.ProxyObject>>();
  private readonly listeners = new Set<DomainEventListener>();
  private subscribed?: Promise<void>;
  private closed = false;
  readonly root: string;

  constructor(readonly uri: string) {
    this.root = connectionPath(uri);
  }

  private connection(): dbus.MessageBus {
    if (this.closed) throw Object.assign(new Error('libvirt connection closed (shutdown)'), { type: 'org.freedesktop.DBus.Error.Disconnected', text: 'connection closed (shutdown)' });
    if (!this.bus) {
      const bus = dbus.systemBus();
      // a lost bus (dbus or libvirt-dbus restarted) is reconnected on the next call
      bus.on('error', () => this.reset());
      this.bus = bus;
    }
    return this.bus;
  }

  private reset(): void {
    const b = this.bus;
    this.bus = undefined;
    this.proxies.clear();
    this.subscribed = undefined;
    try {
      b?.disconnect();
    } catch {
      /* already gone */
    }
  }

  private proxy(path: string): Promise<dbus.ProxyObject> {
    let p = this.proxies.get(path);
    if (!p) {
      p = this.connection().getProxyObject(DEST, path);
      p.catch(() => this.proxies.delete(path));
      this.proxies.set(path, p);
    }
    return p;
  }

  /** calls `iface.method(args)` on the object at `path` (relative paths hang off the connection object) */
  async call<T = unknown>(path: string, iface: string, method: string, ...args: unknown[]): Promise<T> {
    const full = path.startsWith('/') ? path : this.root;
    try {
      const o = await this.proxy(full);
      const i = o.getInterface(`org.libvirt.${iface}`) as Iface;
      return (await i[method](...args)) as T;
    } catch (e) {
      const err = e as { type?: string; text?: string; message?: string };
      if (err.type) {
        if (err.type.startsWith('org.freedesktop.DBus.Error') && /NoReply|Disconnected|ServiceUnknown/.test(err.type)) this.reset();
        throw new LibvirtCallError(`${iface}.${method}`, err.type, err.text ?? err.message ?? '');
      }
      this.reset();
      throw new LibvirtCallError(`${iface}.${method}`, 'org.freedesktop.DBus.Error.Disconnected', err.message ?? String(e));
    }
  }

  connect<T = unknown>(method: string, ...args: unknown[]): Promise<T> {
    return this.call<T>(this.root, 'Connect', method, ...args);
  }

  async property<T = unknown>(path: string, iface: string, name: string): Promise<T> {
    try {
      const o = await this.proxy(path);
      const p = o.getInterface('org.freedesktop.DBus.Properties') as Iface;
      return ((await p.Get(`org.libvirt.${iface}`, name)) as dbus.Variant).value as T;
    } catch (e) {
      const err = e as { type?: string; text?: string; message?: string };
      throw new LibvirtCallError(`${iface}.${name}`, err.type ?? 'org.freedesktop.DBus.Error.Disconnected', err.text ?? err.message ?? '');
    }
  }

  /** the object path of a named object, or undefined when libvirt has none (`DomainLookupByName` etc.) */
  async lookup(method: string, name: string, on: string = this.root): Promise<string | undefined> {
    try {
      return await this.call<string>(on, on === this.root ? 'Connect' : 'StoragePool', method, name);
    } catch (e) {
      if (e instanceof LibvirtCallError && e.notFound) return undefined;
      throw e;
    }
  }

  /** libvirt lifecycle events (Connect.DomainEvent: VIR_DOMAIN_EVENT_* with detail), by domain name */
  async onDomainEvent(listener: DomainEventListener): Promise<() => void> {
    this.listeners.add(listener);
    await this.subscribe();
    return () => this.listeners.delete(listener);
  }

  private subscribe(): Promise<void> {
    if (!this.subscribed) {
      this.subscribed = (async () => {
        const o = await this.proxy(this.root);
        const c = o.getInterface('org.libvirt.Connect');
        c.on('DomainEvent', (path: string, event: number, detail: number) => {
          void this.property<string>(path, 'Domain', 'Name')
            .catch(() => decodeName(path))
            .then((name) => {
              for (const l of this.listeners) l(name, event, detail);
            });
        });
      })();
      this.subscribed.catch(() => (this.subscribed = undefined));
    }
    return this.subscribed;
  }

  close(): void {
    this.closed = true;
    this.listeners.clear();
    this.reset();
  }
}

/** an undefined domain's object path still names its UUID, not its name: callers then re-observe all */
function decodeName(path: string): string {
  return path.slice(path.lastIndexOf('/') + 1);
}
