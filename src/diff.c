/* diff.c - unified diff of two texts, for --diff
 *
 * Follows the steps of GNU diff (without --minimal), written anew: the same body between the
 * common head and tail, the same lines set aside as unmatchable, Myers' comparison with the same
 * search order, and the same sliding of runs of changes afterwards. Where a text has several
 * smallest diffs, users then see the one `diff -u` would show them.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "macro.h"

#define DIFF_CONTEXT 3

#define ANSI_RED "\x1b[31m"
#define ANSI_GREEN "\x1b[32m"
#define ANSI_CYAN "\x1b[36m"
#define ANSI_BOLD "\x1b[1m"
#define ANSI_RESET "\x1b[0m"

struct line {
	const char *p;
	size_t len; /* including the '\n', so a last line without one differs from one with it */
	uint64_t hash;
};

struct block {
	size_t a0, da; /* a[a0, a0 + da) deleted */
	size_t b0, db; /* b[b0, b0 + db) inserted */
};

static bool line_eq(const struct line *x, const struct line *y)
{
	return x->hash == y->hash && x->len == y->len && memcmp(x->p, y->p, x->len) == 0;
}

static int split_lines(const char *s, struct line **ret, size_t *ret_n)
{
	size_t n = 0;
	for (const char *p = strempty(s); *p;) {
		if (n == DIFF_MAX_LINES)
			return -E2BIG;
		n++;
		const char *nl = strchr(p, '\n');
		if (!nl)
			break;
		p = nl + 1;
	}

	struct line *l = calloc(n + 1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	const char *p = strempty(s);
	for (size_t i = 0; i < n; i++) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);
		uint64_t h = UINT64_C(14695981039346656037); /* FNV-1a */
		for (size_t k = 0; k < len; k++)
			h = (h ^ (unsigned char)p[k]) * UINT64_C(1099511628211);
		l[i] = (struct line){ .p = p, .len = len, .hash = h };
		p += len;
	}
	*ret = l;
	*ret_n = n;
	return 0;
}

/* Sets one class number (from 1) per distinct line, over both texts, so that comparing lines is
 * comparing numbers. */
static int classify(const struct line *a, size_t na, const struct line *b, size_t nb, size_t *ida,
		    size_t *idb)
{
	size_t size = 16;
	while (size < 2 * (na + nb))
		size *= 2;
	_cleanup_free_ const struct line **slot = calloc(size, sizeof(*slot));
	_cleanup_free_ size_t *slot_id = calloc(size, sizeof(*slot_id));
	if (!slot || !slot_id)
		return -ENOMEM;

	size_t next = 1;
	for (size_t k = 0; k < na + nb; k++) {
		const struct line *l = k < na ? &a[k] : &b[k - na];
		size_t h = (size_t)l->hash & (size - 1);
		while (slot[h] && !line_eq(slot[h], l))
			h = (h + 1) & (size - 1);
		if (!slot[h]) {
			slot[h] = l;
			slot_id[h] = next++;
		}
		if (k < na)
			ida[k] = slot_id[h];
		else
			idb[k - na] = slot_id[h];
	}
	return (int)(next > INT32_MAX ? INT32_MAX : next);
}

/* Like GNU diff, lines that cannot match (no equal line in the other text) are set aside as
 * changed before the comparison proper, and so, in the middle of such runs, are lines that match
 * too many. Sets d[i] to 1 for the lines set aside. */
static void discard_lines(const size_t *id, size_t n, const size_t *other_count, uint8_t *d)
{
	size_t many = 5;
	for (size_t t = n / 64; (t >>= 2) > 0;)
		many *= 2;

	/* 1: certainly, 2: only inside a run of 1s */
	for (size_t i = 0; i < n; i++)
		d[i] = other_count[id[i]] == 0 ? 1 : other_count[id[i]] > many ? 2 : 0;

	for (size_t i = 0; i < n; i++) {
		if (d[i] == 2) {
			d[i] = 0;
			continue;
		}
		if (d[i] == 0)
			continue;

		size_t j = i, provisional = 0;
		for (; j < n && d[j] != 0; j++)
			if (d[j] == 2)
				provisional++;
		while (j > i && d[j - 1] == 2) {
			d[--j] = 0;
			provisional--;
		}
		size_t len = j - i;

		if (provisional * 4 > len) {
			for (size_t k = i; k < j; k++)
				if (d[k] == 2)
					d[k] = 0;
			continue;
		}

		/* long stretches of provisional lines stay in the comparison */
		size_t minimum = 1;
		for (size_t t = len >> 2; (t >>= 2) > 0;)
			minimum <<= 1;
		minimum++;
		size_t consec = 0;
		for (size_t k = 0; k < len; k++) {
			if (d[i + k] != 2)
				consec = 0;
			else if (++consec == minimum)
				k -= consec; /* back to the start of the stretch, then clear it all */
			else if (consec > minimum)
				d[i + k] = 0;
		}

		/* and so do provisional lines near the ends of the run, up to three certain lines in
		 * a row or a certain one at least 8 lines in */
		consec = 0;
		for (size_t k = 0; k < len; k++) {
			if (k >= 8 && d[i + k] == 1)
				break;
			if (d[i + k] == 2) {
				consec = 0;
				d[i + k] = 0;
			} else if (d[i + k] == 0)
				consec = 0;
			else if (++consec == 3)
				break;
		}
		i += len - 1;
		consec = 0;
		for (size_t k = 0; k < len; k++) {
			if (k >= 8 && d[i - k] == 1)
				break;
			if (d[i - k] == 2) {
				consec = 0;
				d[i - k] = 0;
			} else if (d[i - k] == 0)
				consec = 0;
			else if (++consec == 3)
				break;
		}
	}
}

/* Myers' O(ND) comparison in linear space (the forward and backward searches meet in a middle
 * snake; both halves are compared in turn), with the same search order and the same give-up rule
 * as GNU diff, so that where several smallest edit scripts exist the same one is found. */
struct cmp {
	const size_t *x, *y;         /* class numbers of the lines that take part */
	const size_t *xreal, *yreal; /* their indexes in the body */
	uint8_t *cx, *cy;            /* changed flags of the body */
	ptrdiff_t *fd, *bd;          /* furthest x per diagonal, forward and backward */
	ptrdiff_t too_expensive;
};

struct split {
	ptrdiff_t xmid, ymid;
	bool lo_minimal, hi_minimal;
};

static void middle_snake(struct cmp *c, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff,
			 ptrdiff_t ylim, bool find_minimal, struct split *s)
{
	ptrdiff_t *fd = c->fd, *bd = c->bd;
	const ptrdiff_t dmin = xoff - ylim, dmax = xlim - yoff;
	const ptrdiff_t fmid = xoff - yoff, bmid = xlim - ylim;
	ptrdiff_t fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
	const bool odd = (fmid - bmid) & 1;

	fd[fmid] = xoff;
	bd[bmid] = xlim;

	for (ptrdiff_t cost = 1;; cost++) {
		if (fmin > dmin)
			fd[--fmin - 1] = -1;
		else
			fmin++;
		if (fmax < dmax)
			fd[++fmax + 1] = -1;
		else
			fmax--;
		for (ptrdiff_t d = fmax; d >= fmin; d -= 2) {
			ptrdiff_t lo = fd[d - 1], hi = fd[d + 1];
			ptrdiff_t x = lo < hi ? hi : lo + 1, y = x - d;
			while (x < xlim && y < ylim && c->x[x] == c->y[y]) {
				x++;
				y++;
			}
			fd[d] = x;
			if (odd && bmin <= d && d <= bmax && bd[d] <= x) {
				*s = (struct split){ x, y, true, true };
				return;
			}
		}

		if (bmin > dmin)
			bd[--bmin - 1] = PTRDIFF_MAX;
		else
			bmin++;
		if (bmax < dmax)
			bd[++bmax + 1] = PTRDIFF_MAX;
		else
			bmax--;
		for (ptrdiff_t d = bmax; d >= bmin; d -= 2) {
			ptrdiff_t lo = bd[d - 1], hi = bd[d + 1];
			ptrdiff_t x = lo < hi ? lo : hi - 1, y = x - d;
			while (x > xoff && y > yoff && c->x[x - 1] == c->y[y - 1]) {
				x--;
				y--;
			}
			bd[d] = x;
			if (!odd && fmin <= d && d <= fmax && x <= fd[d]) {
				*s = (struct split){ x, y, true, true };
				return;
			}
		}

		if (find_minimal || cost < c->too_expensive)
			continue;

		/* too costly: split at the furthest point either search reached */
		ptrdiff_t fxy = -1, fx = 0, bxy = PTRDIFF_MAX, bx = 0;
		for (ptrdiff_t d = fmax; d >= fmin; d -= 2) {
			ptrdiff_t x = fd[d] < xlim ? fd[d] : xlim, y = x - d;
			if (y > ylim) {
				x = ylim + d;
				y = ylim;
			}
			if (fxy < x + y) {
				fxy = x + y;
				fx = x;
			}
		}
		for (ptrdiff_t d = bmax; d >= bmin; d -= 2) {
			ptrdiff_t x = bd[d] > xoff ? bd[d] : xoff, y = x - d;
			if (y < yoff) {
				x = yoff + d;
				y = yoff;
			}
			if (x + y < bxy) {
				bxy = x + y;
				bx = x;
			}
		}
		if ((xlim + ylim) - bxy < fxy - (xoff + yoff))
			*s = (struct split){ fx, fxy - fx, true, false };
		else
			*s = (struct split){ bx, bxy - bx, false, true };
		return;
	}
}

static void compare(struct cmp *c, ptrdiff_t xoff, ptrdiff_t xlim, ptrdiff_t yoff, ptrdiff_t ylim,
		    bool find_minimal)
{
	for (;;) {
		while (xoff < xlim && yoff < ylim && c->x[xoff] == c->y[yoff]) {
			xoff++;
			yoff++;
		}
		while (xoff < xlim && yoff < ylim && c->x[xlim - 1] == c->y[ylim - 1]) {
			xlim--;
			ylim--;
		}
		if (xoff == xlim) {
			for (; yoff < ylim; yoff++)
				c->cy[c->yreal[yoff]] = 1;
			return;
		}
		if (yoff == ylim) {
			for (; xoff < xlim; xoff++)
				c->cx[c->xreal[xoff]] = 1;
			return;
		}

		struct split s;
		middle_snake(c, xoff, xlim, yoff, ylim, find_minimal, &s);
		/* recurse into the smaller half, loop on the other: the order does not matter */
		if ((xlim + ylim) - (s.xmid + s.ymid) < (s.xmid + s.ymid) - (xoff + yoff)) {
			compare(c, s.xmid, xlim, s.ymid, ylim, s.hi_minimal);
			xlim = s.xmid;
			ylim = s.ymid;
			find_minimal = s.lo_minimal;
		} else {
			compare(c, xoff, s.xmid, yoff, s.ymid, s.lo_minimal);
			xoff = s.xmid;
			yoff = s.ymid;
			find_minimal = s.hi_minimal;
		}
	}
}

/* Marks the changed lines of the bodies x[0, nx) and y[0, ny) (class numbers below nclass) in
 * cx and cy, as GNU diff does without --minimal. */
static int mark_changes(const size_t *x, size_t nx, const size_t *y, size_t ny, size_t nclass,
			uint8_t *cx, uint8_t *cy)
{
	_cleanup_free_ size_t *count_x = calloc(nclass, sizeof(size_t));
	_cleanup_free_ size_t *count_y = calloc(nclass, sizeof(size_t));
	_cleanup_free_ uint8_t *dx = calloc(nx + 1, 1), *dy = calloc(ny + 1, 1);
	_cleanup_free_ size_t *ux = calloc(nx + 1, sizeof(size_t)), *uy = calloc(ny + 1, sizeof(size_t));
	_cleanup_free_ size_t *rx = calloc(nx + 1, sizeof(size_t)), *ry = calloc(ny + 1, sizeof(size_t));
	_cleanup_free_ ptrdiff_t *diag = calloc(2 * (nx + ny + 3), sizeof(ptrdiff_t));
	if (!count_x || !count_y || !dx || !dy || !ux || !uy || !rx || !ry || !diag)
		return -ENOMEM;

	for (size_t i = 0; i < nx; i++)
		count_x[x[i]]++;
	for (size_t i = 0; i < ny; i++)
		count_y[y[i]]++;
	discard_lines(x, nx, count_y, dx);
	discard_lines(y, ny, count_x, dy);

	size_t mx = 0, my = 0;
	for (size_t i = 0; i < nx; i++) {
		if (dx[i])
			cx[i] = 1;
		else {
			ux[mx] = x[i];
			rx[mx++] = i;
		}
	}
	for (size_t i = 0; i < ny; i++) {
		if (dy[i])
			cy[i] = 1;
		else {
			uy[my] = y[i];
			ry[my++] = i;
		}
	}

	/* GNU diff: about the square root of the size, at least 4096 */
	ptrdiff_t too_expensive = 1;
	for (size_t n = mx + my + 3; n != 0; n >>= 2)
		too_expensive <<= 1;
	if (too_expensive < 4096)
		too_expensive = 4096;

	struct cmp c = {
		.x = ux, .y = uy, .xreal = rx, .yreal = ry, .cx = cx, .cy = cy,
		.fd = diag + my + 1, .bd = diag + (mx + my + 3) + my + 1,
		.too_expensive = too_expensive,
	};
	compare(&c, 0, (ptrdiff_t)mx, 0, (ptrdiff_t)my, false);
	return 0;
}

/* Slides the runs of changed lines in x (cx) to where GNU diff shows them: first up as far as
 * lines repeat (merging with runs met), then down as far as they repeat (merging again), and
 * finally back up to the last position where the run ended next to changes in y (cy), so that
 * a replaced block prints as one. cx[-1], cx[nx], cy[-1] and cy[ny] must exist and be 0.
 * j tracks the line of y paired with the unchanged line of x at i. */
static void shift_runs(const size_t *x, ptrdiff_t nx, uint8_t *cx, const uint8_t *cy)
{
	ptrdiff_t i = 0, j = 0;

	for (;;) {
		while (i < nx && !cx[i]) {
			while (cy[j])
				j++;
			j++;
			i++;
		}
		if (i == nx)
			return;

		ptrdiff_t start = i;
		while (cx[i])
			i++;
		while (cy[j])
			j++;

		ptrdiff_t len, aligned;
		do {
			len = i - start;

			while (start > 0 && x[start - 1] == x[i - 1]) {
				cx[--start] = 1;
				cx[--i] = 0;
				while (cx[start - 1])
					start--;
				do
					j--;
				while (cy[j]);
			}

			aligned = cy[j - 1] ? i : nx;

			while (i < nx && x[start] == x[i]) {
				cx[start++] = 0;
				cx[i++] = 1;
				while (cx[i])
					i++;
				for (j++; cy[j]; j++)
					aligned = i;
			}
		} while (len != i - start);

		while (aligned < i) {
			cx[--start] = 1;
			cx[--i] = 0;
			do
				j--;
			while (cy[j]);
		}
	}
}

static void print_range(FILE *f, size_t start, size_t count)
{
	/* diff -u: an empty range names the line before it */
	if (count == 0)
		fprintf(f, "%zu,0", start);
	else if (count == 1)
		fprintf(f, "%zu", start + 1);
	else
		fprintf(f, "%zu,%zu", start + 1, count);
}

static void print_line(FILE *f, char prefix, const struct line *l, const char *colour)
{
	size_t len = l->len;
	bool nl = len > 0 && l->p[len - 1] == '\n';
	if (nl)
		len--;
	if (colour)
		fputs(colour, f);
	fputc(prefix, f);
	fwrite(l->p, 1, len, f);
	if (colour)
		fputs(ANSI_RESET, f);
	fputc('\n', f);
	if (!nl)
		fputs("\\ No newline at end of file\n", f);
}

static void print_hunk(FILE *f, const struct line *a, size_t na, const struct line *b,
		       const struct block *blk, size_t n, bool colour)
{
	const struct block *first = &blk[0], *last = &blk[n - 1];
	size_t sa = first->a0 > DIFF_CONTEXT ? first->a0 - DIFF_CONTEXT : 0;
	size_t sb = first->b0 - (first->a0 - sa); /* the lines before a change are paired */
	size_t ea = last->a0 + last->da + DIFF_CONTEXT < na ? last->a0 + last->da + DIFF_CONTEXT : na;
	size_t eb = last->b0 + last->db + (ea - (last->a0 + last->da));

	if (colour)
		fputs(ANSI_CYAN, f);
	fputs("@@ -", f);
	print_range(f, sa, ea - sa);
	fputs(" +", f);
	print_range(f, sb, eb - sb);
	fputs(" @@", f);
	if (colour)
		fputs(ANSI_RESET, f);
	fputc('\n', f);

	size_t i = sa;
	for (size_t k = 0; k < n; k++) {
		for (; i < blk[k].a0; i++)
			print_line(f, ' ', &a[i], NULL);
		for (size_t d = 0; d < blk[k].da; d++)
			print_line(f, '-', &a[blk[k].a0 + d], colour ? ANSI_RED : NULL);
		for (size_t d = 0; d < blk[k].db; d++)
			print_line(f, '+', &b[blk[k].b0 + d], colour ? ANSI_GREEN : NULL);
		i = blk[k].a0 + blk[k].da;
	}
	for (; i < ea; i++)
		print_line(f, ' ', &a[i], NULL);
}

static void print_header(FILE *f, const char *a_label, const char *b_label, bool colour)
{
	fprintf(f, "%s--- %s%s\n", colour ? ANSI_BOLD : "", strempty(a_label), colour ? ANSI_RESET : "");
	fprintf(f, "%s+++ %s%s\n", colour ? ANSI_BOLD : "", strempty(b_label), colour ? ANSI_RESET : "");
}

static int print_too_large(FILE *f, const char *a_label, const char *b_label)
{
	fprintf(f, "%s and %s differ (too many lines to show the changes)\n", strempty(a_label),
		strempty(b_label));
	return ferror(f) ? -EIO : 1;
}

int diff_unified(FILE *f, const char *a_label, const char *a, const char *b_label, const char *b,
		 bool colour)
{
	if (streq(strempty(a), strempty(b)))
		return 0;

	_cleanup_free_ struct line *la = NULL, *lb = NULL;
	size_t na, nb;
	int r = split_lines(a, &la, &na);
	if (r >= 0)
		r = split_lines(b, &lb, &nb);
	if (r == -E2BIG)
		return print_too_large(f, a_label, b_label);
	if (r < 0)
		return r;

	/* The body that is compared, as GNU diff chooses it: from 3 lines before the first
	 * difference to 3 lines into the common tail (runs of changes never slide further). */
	size_t head = 0, tail = 0;
	while (head < na && head < nb && line_eq(&la[head], &lb[head]))
		head++;
	size_t s = head > DIFF_CONTEXT ? head - DIFF_CONTEXT : 0;
	while (tail < na - s && tail < nb - s && line_eq(&la[na - 1 - tail], &lb[nb - 1 - tail]))
		tail++;
	size_t keep = tail < DIFF_CONTEXT ? tail : DIFF_CONTEXT;
	size_t ea = na - tail + keep, eb = nb - tail + keep;

	/* changed flags with a spare 0 at each end, for shift_runs() */
	_cleanup_free_ uint8_t *ca_mem = calloc(na + 2, 1), *cb_mem = calloc(nb + 2, 1);
	_cleanup_free_ size_t *ida = calloc(ea - s + 1, sizeof(size_t));
	_cleanup_free_ size_t *idb = calloc(eb - s + 1, sizeof(size_t));
	if (!ca_mem || !cb_mem || !ida || !idb)
		return -ENOMEM;
	uint8_t *ca = ca_mem + 1, *cb = cb_mem + 1;

	r = classify(la + s, ea - s, lb + s, eb - s, ida, idb);
	if (r < 0)
		return r;
	r = mark_changes(ida, ea - s, idb, eb - s, (size_t)r, ca + s, cb + s);
	if (r < 0)
		return r;
	shift_runs(ida, (ptrdiff_t)(ea - s), ca + s, cb + s);
	shift_runs(idb, (ptrdiff_t)(eb - s), cb + s, ca + s);

	_cleanup_free_ struct block *blk = calloc((ea - s) + (eb - s) + 1, sizeof(*blk));
	if (!blk)
		return -ENOMEM;
	size_t nblk = 0, changed = 0;
	for (size_t i = 0, j = 0; i < na || j < nb;) {
		if (ca[i] || cb[j]) {
			struct block *k = &blk[nblk++];
			k->a0 = i;
			k->b0 = j;
			while (ca[i])
				i++;
			while (cb[j])
				j++;
			k->da = i - k->a0;
			k->db = j - k->b0;
			changed += k->da + k->db;
		} else {
			i++;
			j++;
		}
	}
	print_header(f, a_label, b_label, colour);
	for (size_t k = 0; k < nblk;) {
		size_t e = k + 1;
		/* GNU diff joins changes up to 2 * context unchanged lines apart into one hunk */
		while (e < nblk && blk[e].a0 - (blk[e - 1].a0 + blk[e - 1].da) <= 2 * DIFF_CONTEXT)
			e++;
		print_hunk(f, la, na, lb, blk + k, e - k, colour);
		k = e;
	}

	if (ferror(f))
		return -EIO;
	return changed > INT32_MAX ? INT32_MAX : (int)changed;
}

int diff_unified_files(FILE *f, const struct diff_file *files, size_t n, bool colour)
{
	int64_t changed = 0;

	for (size_t i = 0; i < n; i++) {
		int r = diff_unified(f, files[i].a_label, files[i].a, files[i].b_label, files[i].b, colour);
		if (r < 0)
			return r;
		changed += r;
	}
	return changed > INT32_MAX ? INT32_MAX : (int)changed;
}

int diff_unified_text(const struct diff_file *files, size_t n, char **ret)
{
	_cleanup_free_ char *text = NULL;
	size_t size = 0;

	FILE *f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	int r = diff_unified_files(f, files, n, false);
	/* text is final only after fclose(), also when a write failed */
	if (fclose(f) != 0 && r >= 0)
		r = -ENOMEM;
	if (r < 0)
		return r;
	*ret = TAKE_PTR(text);
	return r;
}
