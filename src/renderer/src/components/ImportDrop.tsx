// Dropping a bd JSONL file (Gas Town's .beads/issues.jsonl, `bd export`) onto the window
// imports it: pick the rig, watch the progress bar, read the summary.
import { useEffect, useState } from 'react';
import type { ImportSummary } from '../../../shared/domain';
import { ApiError } from '../../../shared/errors';
import { uploadBdFile, type UploadProgress } from '../state/bd-upload';
import { useTown } from '../state/town-store';

type Step =
  | { kind: 'idle' }
  | { kind: 'confirm'; file: File }
  | { kind: 'running'; file: File; progress: UploadProgress }
  | { kind: 'done'; summary: ImportSummary }
  | { kind: 'failed'; message: string };

const isJsonl = (f: File) => /\.jsonl?$/i.test(f.name);
const hasFiles = (e: DragEvent) => !!e.dataTransfer && [...e.dataTransfer.types].includes('Files');
const counts = (r: Record<string, number>) => Object.entries(r).sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';

export function ImportDrop() {
  const rigs = useTown((s) => s.entities.rig.list());
  const [step, setStep] = useState<Step>({ kind: 'idle' });
  const [over, setOver] = useState(false);
  const [rig, setRig] = useState('');

  useEffect(() => {
    const onOver = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      setOver(true);
    };
    const onLeave = (e: DragEvent) => e.relatedTarget === null && setOver(false);
    const onDrop = (e: DragEvent) => {
      if (!hasFiles(e)) return;
      e.preventDefault();
      setOver(false);
      const file = [...(e.dataTransfer?.files ?? [])][0];
      if (!file) return;
      setStep((s) => (s.kind === 'running' ? s : isJsonl(file) ? { kind: 'confirm', file } : { kind: 'failed', message: `${file.name} is not a .jsonl file: drop a bd export or .beads/issues.jsonl` }));
    };
    window.addEventListener('dragover', onOver);
    window.addEventListener('dragleave', onLeave);
    window.addEventListener('drop', onDrop);
    return () => {
      window.removeEventListener('dragover', onOver);
      window.removeEventListener('dragleave', onLeave);
      window.removeEventListener('drop', onDrop);
    };
  }, []);

  const start = (file: File) => {
    setStep({ kind: 'running', file, progress: { read: 0, total: file.size } });
    uploadBdFile(file, rig || rigs[0]?.id, (progress) => setStep({ kind: 'running', file, progress })).then(
      (summary) => setStep({ kind: 'done', summary }),
      (err) => setStep({ kind: 'failed', message: err instanceof ApiError ? err.message : String(err) }),
    );
  };
  const close = () => setStep({ kind: 'idle' });

  if (step.kind === 'idle') return over ? <div className="drop-hint">Drop a bd JSONL file to import its beads</div> : null;
  return (
    <div className="import-dialog" role="dialog" aria-label="Import beads">
      {step.kind === 'confirm' && (
        <>
          <h3>Import {step.file.name}</h3>
          {rigs.length === 0 ? (
            <p>Add a rig first: imported beads belong to one.</p>
          ) : (
            <label>
              Into rig{' '}
              <select value={rig || rigs[0].id} onChange={(e) => setRig(e.target.value)}>
                {rigs.map((r) => (
                  <option key={r.id} value={r.id}>{r.name}</option>
                ))}
              </select>
            </label>
          )}
          <div className="row">
            <button disabled={rigs.length === 0} onClick={() => start(step.file)}>Import</button>
            <button className="ghost" onClick={close}>Cancel</button>
          </div>
        </>
      )}
      {step.kind === 'running' && (
        <>
          <h3>Importing {step.file.name}</h3>
          <ImportProgress {...step.progress} />
        </>
      )}
      {step.kind === 'done' && (
        <>
          <h3>Imported into {step.summary.rig}</h3>
          <ul className="import-summary">
            <li>imported {step.summary.imported}, updated {step.summary.updated}</li>
            <li>skipped: {counts(step.summary.skipped)}</li>
            <li>dependencies kept {step.summary.dependencies}; dropped: {counts(step.summary.dependencies_dropped)}</li>
            <li>convoys created {step.summary.convoys}</li>
            {step.summary.cycles.map((c) => (
              // One line of the file can hold several dropped dependencies.
              <li key={`${c.line} ${c.dependency}`}>line {c.line}: dropped “{c.dependency}”: it would close the cycle {c.cycle}</li>
            ))}
            {step.summary.cycle_count > step.summary.cycles.length && <li>… and {step.summary.cycle_count - step.summary.cycles.length} more dependencies that would close a cycle</li>}
            {step.summary.mail.imported + step.summary.mail.updated > 0 && <li>mail imported {step.summary.mail.imported}, updated {step.summary.mail.updated}</li>}
            {step.summary.bad_line_count > 0 && (
              <li>
                {step.summary.bad_line_count} bad {step.summary.bad_line_count === 1 ? 'line' : 'lines'}: {step.summary.bad_lines.slice(0, 5).map((b) => `line ${b.line} (${b.error})`).join('; ')}
              </li>
            )}
          </ul>
          <button onClick={close}>Close</button>
        </>
      )}
      {step.kind === 'failed' && (
        <>
          <h3>Import failed</h3>
          <p role="alert">{step.message}</p>
          <button onClick={close}>Close</button>
        </>
      )}
    </div>
  );
}

function ImportProgress({ read, total }: UploadProgress) {
  const pct = total === 0 ? 100 : Math.round((read / total) * 100);
  return (
    <div className="progress" role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={pct} aria-label="import progress">
      <div className="progress-fill" style={{ width: `${pct}%` }} />
      <span className="progress-text">
        {(read / 1e6).toFixed(1)} of {(total / 1e6).toFixed(1)} MB · {pct}%
      </span>
    </div>
  );
}
