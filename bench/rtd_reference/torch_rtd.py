#!/usr/bin/env python3
"""PyTorch reference of NERSOTA's ELECTRA replaced-token-detection pretraining (a diagnostic, not a product).

Same model as onnx/electra/pretraining.ts (shared embeddings, generator of `generator_hidden_size` width with
one head per 64 units, tied generator output, post-LN encoders, discriminator head dense-GELU-dense), the same
masking as train/pretrain_data/masking.ts (k = round(0.15 n) distinct non-special positions, 85 % become [MASK]), the same loss
(generator CE + disc_weight x per-token BCE), linear warm-up and decay, global clipping, AdamW without decay on
LayerNorm and biases. Differences: PyTorch AdamW has bias correction (ELECTRA's optimizer, ours, has none) and
init is truncated normal. Use it to tell a learning curve that is the model's from one that is a bug's.

  deno run -A bench/rtd_reference/dump_batches.ts --data RUNS/shards --out /tmp/rtd
  python3 bench/rtd_reference/torch_rtd.py --config configs/default/pretrain-10k.json --data /tmp/rtd --steps 500
Prints training losses every 50 updates and held-out discriminator ROC-AUC every --eval-every updates.

  python3 bench/rtd_reference/torch_rtd.py --config configs/small_config.json --bench --batch 32 --seq 128
Throughput mode for `deno task bench` (the pretraining row's peer): synthetic full-length rows masked as ours,
a warm-up step, then --steps timed updates (forward, backward, clipping, AdamW; masking outside the timing, as
bench/pretrain_bench.ts does); prints one JSON line with train tokens/s.
"""
import argparse, json, math, os, time
import numpy as np, torch, torch.nn as nn, torch.nn.functional as F

PAD, CLS, SEP, MASK = 0, 2, 3, 4  # the project's vocabulary layout (infer/tokenizer.ts)


class Layer(nn.Module):
    def __init__(s, h, heads, inter, drop):
        super().__init__()
        s.heads = heads
        s.q, s.k, s.v, s.o = (nn.Linear(h, h) for _ in range(4))
        s.ln1, s.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        s.up, s.down = nn.Linear(h, inter), nn.Linear(inter, h)
        s.drop = nn.Dropout(drop)

    def forward(s, x, bias):
        b, t, h = x.shape
        sp = lambda y: y.view(b, t, s.heads, h // s.heads).transpose(1, 2)
        att = s.drop(torch.softmax(sp(s.q(x)) @ sp(s.k(x)).transpose(-1, -2) / math.sqrt(h // s.heads) + bias, -1))
        x = s.ln1(x + s.drop(s.o((att @ sp(s.v(x))).transpose(1, 2).reshape(b, t, h))))
        return s.ln2(x + s.drop(s.down(F.gelu(s.up(x)))))


class Encoder(nn.Module):
    def __init__(s, emb, h, heads, inter, layers, drop):
        super().__init__()
        s.proj = nn.Linear(emb, h)
        s.layers = nn.ModuleList(Layer(h, heads, inter, drop) for _ in range(layers))

    def forward(s, e, bias):
        x = s.proj(e)
        for layer in s.layers:
            x = layer(x, bias)
        return x


class RTD(nn.Module):
    def __init__(s, m, gen_size, disc_weight):
        super().__init__()
        V, E, H = m["vocab_size"], m["embedding_size"], m["hidden_size"]
        drop, L = m["hidden_dropout_prob"], m["num_hidden_layers"]
        s.V, s.disc_weight, s.Hg = V, disc_weight, round(H * gen_size)
        s.word, s.pos, s.typ = nn.Embedding(V, E), nn.Embedding(m["max_position_embeddings"], E), nn.Embedding(m["type_vocab_size"], E)
        s.eln, s.edrop = nn.LayerNorm(E, eps=1e-12), nn.Dropout(drop)
        s.gen = Encoder(E, s.Hg, max(1, s.Hg // 64), 4 * s.Hg, L, drop)
        s.gd, s.gln, s.gbias = nn.Linear(s.Hg, E), nn.LayerNorm(E, eps=1e-12), nn.Parameter(torch.zeros(V))
        s.disc = Encoder(E, H, m["num_attention_heads"], m["intermediate_size"], L, drop)
        s.dd, s.dout = nn.Linear(H, H), nn.Linear(H, 1)
        for mod in s.modules():
            if isinstance(mod, (nn.Linear, nn.Embedding)):
                nn.init.trunc_normal_(mod.weight, std=m["initializer_range"], a=-2 * m["initializer_range"], b=2 * m["initializer_range"])
            if isinstance(mod, nn.Linear):
                nn.init.zeros_(mod.bias)

    def embed(s, ids, types):
        return s.edrop(s.eln(s.word(ids) + s.pos(torch.arange(ids.shape[1]))[None] + s.typ(types)))

    def forward(s, ids, types, mask, pos, labels, weights):
        bias = (1.0 - mask[:, None, None, :].float()) * -1e4
        h = s.gen(s.embed(ids, types), bias)
        hp = torch.gather(h, 1, pos[:, :, None].expand(-1, -1, s.Hg))
        logits = s.gln(F.gelu(s.gd(hp))) @ s.word.weight.T + s.gbias
        ce = F.cross_entropy(logits.reshape(-1, s.V), labels.reshape(-1), reduction="none")
        gen_loss = (ce * weights.reshape(-1)).sum() / (weights.sum() + 1e-6)
        mlm_acc = ((logits.argmax(-1) == labels).float() * weights).sum() / (weights.sum() + 1e-6)
        with torch.no_grad():
            sampled = torch.multinomial(torch.softmax(logits.reshape(-1, s.V), -1), 1).reshape(labels.shape)
            real = weights > 0
            original = ids.clone()
            original.scatter_(1, pos, torch.where(real, labels, original.gather(1, pos)))
            replaced = original.clone()
            replaced.scatter_(1, pos, torch.where(real, sampled, original.gather(1, pos)))
            is_replaced = (replaced != original).float()
        d = s.dout(F.gelu(s.dd(s.disc(s.embed(replaced, types), bias)))).squeeze(-1)
        m = mask.float()
        disc_loss = (F.binary_cross_entropy_with_logits(d, is_replaced, reduction="none") * m).sum() / (m.sum() + 1e-6)
        return gen_loss + s.disc_weight * disc_loss, gen_loss, disc_loss, mlm_acc, d, is_replaced


def mask_rows(arrays, rows, rng, P, mask_prob):
    ids = arrays["input_ids"][rows].copy()
    n = len(rows)
    pos, lab, w = np.zeros((n, P), np.int64), np.zeros((n, P), np.int64), np.zeros((n, P), np.float32)
    for i in range(n):
        real = arrays["attention_mask"][rows[i]] > 0
        cand = np.where(real & ~np.isin(ids[i], [PAD, CLS, SEP, MASK]))[0]
        k = min(len(cand), max(1, min(P, int(round(real.sum() * mask_prob)))))
        chosen = np.sort(rng.choice(cand, k, replace=False))
        pos[i, :k], lab[i, :k], w[i, :k] = chosen, ids[i, chosen], 1
        ids[i, chosen[rng.random(k) < 0.85]] = MASK
    t = lambda a: torch.from_numpy(a.astype(np.int64))
    return (t(ids), t(arrays["token_type_ids"][rows]), t(arrays["attention_mask"][rows]),
            torch.from_numpy(pos), torch.from_numpy(lab), torch.from_numpy(w))


def roc_auc(scores, labels):
    order = np.argsort(scores, kind="stable")
    ranks = np.empty(len(scores))
    ranks[order] = np.arange(1, len(scores) + 1)
    pos = labels.sum()
    return (ranks[labels > 0.5].sum() - pos * (pos + 1) / 2) / (pos * (len(labels) - pos))


def bench(a, m, t):
    """Times --steps RTD updates on synthetic batches (see the module doc); prints one JSON line."""
    B, T = a.batch or t["train_batch_size"], a.seq or t["max_seq_length"]
    P = max(1, int((t["mask_prob"] + 0.005) * T))
    rng = np.random.default_rng(a.seed + 1)
    n = B * (a.steps + 1)
    ids = rng.integers(5, m["vocab_size"], (n, T)).astype(np.int32)
    ids[:, 0], ids[:, -1] = CLS, SEP
    types = np.zeros((n, T), np.int32)
    types[:, T // 2:] = 1
    arrays = {"input_ids": ids, "token_type_ids": types, "attention_mask": np.ones((n, T), np.int32)}
    model = RTD(m, t["generator_hidden_size"], t["disc_weight"])
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, eps=t["adam_epsilon"], weight_decay=t["weight_decay_rate"])
    batches = [mask_rows(arrays, np.arange(i * B, (i + 1) * B), rng, P, t["mask_prob"]) for i in range(a.steps + 1)]

    def step(batch):
        loss = model(*batch)[0]
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), t["max_grad_norm"])
        opt.step()

    step(batches[0])  # warm-up
    t0 = time.perf_counter()
    for batch in batches[1:]:
        step(batch)
    seconds = time.perf_counter() - t0
    print(json.dumps({"peer": f"torch {torch.__version__} rtd_reference", "batch": B, "seq": T,
                      "train_tokens_per_s": round(B * T * a.steps / seconds), "threads": a.threads}))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--config", required=True, help="our pretraining config JSON (model + train sections)")
    ap.add_argument("--data", help="folder written by dump_batches.ts (not with --bench)")
    ap.add_argument("--bench", action="store_true", help="throughput on synthetic batches (see the module doc)")
    ap.add_argument("--batch", type=int, help="--bench: batch size (default the config's)")
    ap.add_argument("--seq", type=int, help="--bench: sequence length (default the config's)")
    ap.add_argument("--steps", type=int, default=500)
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--eval-examples", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    cfg = json.load(open(a.config))
    m, t = cfg["model"], cfg["train"]
    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    if a.bench:
        return bench(a, m, t)
    if not a.data:
        ap.error("--data is required (or --bench)")
    meta = json.load(open(os.path.join(a.data, "meta.json")))
    T = meta["seq_length"]
    arrays = {k: np.fromfile(os.path.join(a.data, k + ".bin"), np.int32).reshape(-1, T)
              for k in ("input_ids", "token_type_ids", "attention_mask")}
    n_eval = min(a.eval_examples, len(arrays["input_ids"]) // 10)
    P = max(1, int((t["mask_prob"] + 0.005) * T))
    B = t["train_batch_size"]
    model = RTD(m, t["generator_hidden_size"], t["disc_weight"])
    no_decay = lambda n: "ln" in n or n.endswith("bias")
    groups = [{"params": [p for n, p in model.named_parameters() if not no_decay(n)], "weight_decay": t["weight_decay_rate"]},
              {"params": [p for n, p in model.named_parameters() if no_decay(n)], "weight_decay": 0.0}]
    opt = torch.optim.AdamW(groups, lr=t["learning_rate"], eps=t["adam_epsilon"])
    rng = np.random.default_rng(a.seed + 1)

    def evaluate(step):
        model.eval()
        scores, labels, sums = [], [], np.zeros(3)
        er = np.random.default_rng(99)
        with torch.no_grad():
            for i in range(0, n_eval, 64):
                ids, types, mask, pos, lab, w = mask_rows(arrays, np.arange(i, min(i + 64, n_eval)), er, P, t["mask_prob"])
                _, gl, dl, acc, d, rep = model(ids, types, mask, pos, lab, w)
                sel = mask.bool()
                scores.append(d[sel].numpy()); labels.append(rep[sel].numpy())
                sums += [gl.item(), dl.item(), acc.item()]
        model.train()
        k = math.ceil(n_eval / 64)
        print(f"eval {step}: gen {sums[0] / k:.4f} disc {sums[1] / k:.4f} mlm_acc {sums[2] / k:.3f} "
              f"AUC {roc_auc(np.concatenate(scores), np.concatenate(labels)):.3f}", flush=True)

    t0 = time.time()
    for step in range(1, a.steps + 1):
        lr = t["learning_rate"] * min(step / max(1, t["num_warmup_steps"]), 1.0) * \
            max(0.0, 1 - step / t["num_train_steps"]) ** t["lr_decay_power"]
        for g in opt.param_groups:
            g["lr"] = lr
        rows = rng.integers(n_eval, len(arrays["input_ids"]), B)
        loss, gl, dl, _, _, _ = model(*mask_rows(arrays, rows, rng, P, t["mask_prob"]))
        opt.zero_grad()
        loss.backward()
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), t["max_grad_norm"])
        opt.step()
        if step % 50 == 0:
            print(f"step {step}: loss {loss.item():.3f} gen {gl.item():.3f} disc {dl.item():.4f} grad_norm {norm:.2f} "
                  f"{B * T * step / (time.time() - t0):.0f} tokens/s", flush=True)
        if a.eval_every and step % a.eval_every == 0:
            evaluate(step)


if __name__ == "__main__":
    main()
