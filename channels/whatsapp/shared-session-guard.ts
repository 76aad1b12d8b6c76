/**
 * Keeps a WhatsApp Web session that several hosts share (RemoteAuth on Redis) from being deleted
 * by the host that lost it.
 *
 * whatsapp-web.js calls its auth strategy's `disconnect()` whenever WhatsApp Web leaves the states
 * it accepts (Client.js, `onAppStateChangedEvent`), and RemoteAuth's `disconnect()` deletes the
 * session from the remote store. On `CONFLICT` that is wrong: another host opened the same
 * session and is running on it; the loser deleting it from Redis means the winner's next restart
 * (or any standby) has no login to restore. Only when the device was unlinked (`UNPAIRED`,
 * `UNPAIRED_IDLE`, or the `LOGOUT` the library handles through `logout()`) is the session dead for
 * everyone, and only then is it deleted. In every other case the losing host just stops its own
 * periodic backups (RemoteAuth's `destroy()`), so it never overwrites the winner's copy either.
 *
 * The library emits `change_state` with the new state right before it calls `disconnect()` (the
 * same synchronous stretch of its handler), which is how the guard knows why it is called.
 */

/** The part of a whatsapp-web.js auth strategy (RemoteAuth) the guard takes over. */
export interface GuardedAuthStrategy {
  setup(client: { on(event: "change_state", listener: (state: string) => void): unknown }): void;
  /** RemoteAuth: delete the remote session and this host's copy, stop the backups. */
  disconnect(): Promise<void>;
  /** RemoteAuth: stop the backups. */
  destroy(): Promise<void>;
  /** RemoteAuth: `disconnect()`. */
  logout(): Promise<void>;
}

/** States in which WhatsApp itself dropped the linked device: the session can never be restored. */
export const UNLINKED_STATES: ReadonlySet<string> = new Set(["UNPAIRED", "UNPAIRED_IDLE"]);

/**
 * Rewires `auth` (before it is given to a `Client`) so the shared session is deleted only when
 * the device was unlinked. Returns `auth`.
 *
 * @example
 * const auth = guardSharedSession(new wweb.RemoteAuth({ store, backupSyncIntervalMs }));
 * const client = new wweb.Client({ authStrategy: auth });
 */
export function guardSharedSession<T extends GuardedAuthStrategy>(auth: T): T {
  // The library's own methods, bound before they are shadowed below.
  const setup = auth.setup.bind(auth);
  const deleteSession = auth.disconnect.bind(auth);
  const stopBackups = auth.destroy.bind(auth);
  let lastState: string | undefined;
  auth.setup = (client) => {
    setup(client);
    client.on("change_state", (state) => void (lastState = String(state)));
  };
  auth.disconnect = async () => {
    if (lastState !== undefined && UNLINKED_STATES.has(lastState)) return deleteSession();
    await stopBackups();
  };
  // LOGOUT (the phone removed the device): the session is dead everywhere. RemoteAuth's logout
  // calls `this.disconnect()`, which is the guarded one now, so it goes to the deletion directly.
  auth.logout = () => deleteSession();
  return auth;
}
