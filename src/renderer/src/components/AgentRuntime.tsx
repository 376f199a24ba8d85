// An agent's runtime in the Agents table: the CLI and model, its conversation id (short,
// the full id copied on click), tokens and cost, and the last hook its runtime reported.
import type { AgentView } from '../../../shared/domain';
import { useTown } from '../state/town-store';
import { notify } from '../state/ui-store';
import { useRelative } from './time';
import { cacheTokens, compactCount, Cost, hasUsage, usageDetail } from './usage';

/** "tool · Bash: git commit -m 'x'" — the hook, in words, without its time. */
export function hookText(h: NonNullable<AgentView['last_hook']>): string {
  return `${h.event.replace(/_/g, ' ')}${h.detail ? ` · ${h.detail.replace(/\s+/g, ' ')}` : ''}`;
}

export function RuntimeCells({ agent: a }: { agent: AgentView }) {
  const rigModel = useTown((s) => (a.rig ? (s.entities.rig.get(a.rig)?.model ?? null) : null));
  const model = a.model ?? rigModel;
  return (
    <>
      <td className="nowrap clip" data-field="runtime">
        {a.runtime ?? <span className="muted">—</span>}
        {a.runtime && (
          <span className="muted small" title={`${model ?? 'default model'}: ${a.model ? 'the model its runtime reported' : model ? "the rig's model setting" : "the runtime's own default"}`}>
            {' · '}{model ?? 'default model'}
          </span>
        )}
      </td>
      <td className="nowrap" data-field="session">
        {a.runtime_session ? <SessionId id={a.runtime_session} /> : <span className="muted">—</span>}
      </td>
      <td className="nowrap num" data-field="tokens" data-col="tokens">
        {hasUsage(a.usage) ? (
          <span title={usageDetail(a.usage)}>
            {compactCount(a.usage.input_tokens)}/{compactCount(a.usage.output_tokens)}/{compactCount(cacheTokens(a.usage))}
          </span>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="nowrap num" data-field="cost">
        {hasUsage(a.usage) ? <Cost usage={a.usage} short /> : <span className="muted">—</span>}
      </td>
      <td className="hook-cell" data-field="last-hook">
        <LastHook hook={a.last_hook} />
      </td>
    </>
  );
}

/** The first 8 characters; the full id on hover, copied on click. */
function SessionId({ id }: { id: string }) {
  return (
    <button
      className="link mono"
      title={`${id} (click to copy)`}
      aria-label={`Copy session id ${id}`}
      onClick={() =>
        navigator.clipboard?.writeText(id).then(
          () => notify(`Copied session id ${id}`),
          () => notify(`Session id: ${id}`),
        ) ?? notify(`Session id: ${id}`)
      }
    >
      {id.slice(0, 8)}
    </button>
  );
}

function LastHook({ hook }: { hook: AgentView['last_hook'] }) {
  const ago = useRelative(hook?.at);
  if (!hook) return <span className="muted">—</span>;
  const text = hookText(hook);
  return (
    <span className="one-line" title={`${text}\n${new Date(hook.at).toLocaleString()}`}>
      <span className="hook-text">{text}</span>
      <time className="muted small" dateTime={hook.at}> · {ago}</time>
    </span>
  );
}
