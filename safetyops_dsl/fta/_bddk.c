/*
 * _bddk: a small, fast BDD package for the fault-tree engine (replaces CUDD + copy + Python passes).
 *
 * Edges are unsigned ints: edge = 2 * node + complemented. Node 0 is the constant TRUE, so edge 0 is TRUE
 * and edge 1 is FALSE. Variable index == level (smaller index nearer the root); there is no reordering and
 * no garbage collection: every node lives until the Manager is freed, so edges held by Python stay valid.
 *
 * Canonical form (the same as CUDD's, so BDD sizes agree): reduced, ordered, complement edges, and the
 * then (high) edge of a stored node is never complemented.
 *
 * Layout:
 *   - nodes: one array of {var, hi, lo} (12 bytes), in allocation order (children before parents);
 *   - unique table: open addressing with linear probing; a slot holds the node index and 32 bits of the
 *     node's hash, so probing past other nodes reads no node (most lookups miss: ~96% of the calls on
 *     CEA9601 create a node);
 *   - computed table: direct mapped, keyed by normalised operands. AND keys have a < b, XOR keys (both
 *     operands regular) have a > b, so the operation needs no field; (0, 0) marks an empty slot. It grows
 *     with the unique table;
 *   - apply runs on an explicit stack (depth <= nvars + 1), so deep BDDs cannot overflow the C stack.
 *
 * The module-level functions node_probabilities and conditional_probabilities reproduce the pure-Python
 * passes (tests/unit/fta/fta_reference.py) operation for operation, so their results are bit-identical
 * (compile with -ffp-contract=off: no fused multiply-add).
 *
 * Flat BDDs and probability tables travel as array.array('i') / array.array('d') (4 and 8 bytes an item,
 * where a list costs a pointer plus a boxed int or float: ~36 / ~32 bytes), and the passes read such arrays
 * in place through the buffer protocol. Any other sequence is converted item by item, with the same checks.
 */

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "_kernel_buffers.h"
#if defined(__linux__)
#include <sys/mman.h>
#endif

#define E_TRUE 0u
#define E_FALSE 1u
#define NO_EDGE 0xFFFFFFFFu
#define MARK 0x80000000u
/* Node slots (terminal included) stay below 2^31: edges fit in 32 bits and node numbers leave the MARK bit
 * free. */
#define MAX_NODES 0x7FFFFFF0u
#define MAX_VARS 0x7FFFFFF0u

/* Computed-table slots = unique-table slots * 2^CACHE_RATIO (so between 0.33 and 0.67 per node). A quarter
 * rather than a half: the build CPU was the same or lower on edf9202, das9601, edfpa14b and CEA9601 (best of
 * 2-3 runs each, same load; the Aralia cea9601 race +2-3%, within the noise), and the table is 1.5 MiB smaller
 * at edf9202's peak. */
#ifndef CACHE_RATIO
#define CACHE_RATIO (-2)
#endif

enum { ERR_NONE = 0, ERR_LIMIT, ERR_NOMEM, ERR_TOOBIG, ERR_SIGNAL };

typedef struct {
    uint32_t var, hi, lo;
} Node;

typedef struct {
    uint32_t tag; /* low half of the node's hash: a mismatch rejects the slot without reading the node */
    uint32_t idx; /* 0: empty (node 0 is the terminal, never stored) */
} USlot;

typedef struct {
    uint32_t a, b, r;
} CSlot;

typedef struct {
    uint32_t f, g;   /* normalised operands (the cache key) */
    uint32_t f0, g0; /* else cofactors, still to be combined */
    uint32_t t;      /* result of the then branch, NO_EDGE while it is being computed */
    uint32_t v;      /* top variable */
    uint32_t c;      /* complement applied to this frame's result (XOR) */
} Frame;

typedef struct {
    PyObject_HEAD
    uint32_t nvars;
    uint64_t limit; /* max internal nodes, 0: none */
    Node *nodes;
    size_t n, cap; /* node slots used (terminal included), allocated */
    USlot *ut;
    size_t umask, ugrow;
    unsigned ushift;
    CSlot *ct;
    size_t cmask;
    unsigned cshift;
    Frame *stk;
    size_t stkcap;
    uint32_t *buf; /* scratch for size() */
    size_t bufcap;
    int err;
    uint8_t *packed; /* a parked manager's nodes, packed (nodes == NULL meanwhile) */
    size_t packed_bytes;
} Manager;

#define K1 0x9E3779B97F4A7C15ull
#define K2 0xC2B2AE3D27D4EB4Full
#define K3 0x165667B19E3779F9ull

/* Hash of node (v, t, e): the top bits index the unique table, the low 32 bits are the slot's tag. */
static inline uint64_t nhash(uint32_t v, uint32_t t, uint32_t e) {
    uint64_t h = (((uint64_t)t | ((uint64_t)e << 32)) * K1) ^ ((uint64_t)v * K3);
    h ^= h >> 32;
    h *= K2;
    h ^= h >> 29;
    return h;
}

static inline CSlot *cslot(const Manager *m, uint32_t a, uint32_t b) {
    return &m->ct[(size_t)(((uint64_t)a * K1 + (uint64_t)b * K2) >> m->cshift)];
}

/* ------------------------------------------------------------------------------------------------------ */
/* Big arrays (nodes, packed nodes, unique and computed tables). On Linux, arrays of HUGE_MIN bytes and more
 * are mapped directly (in multiples of 2 MiB of address space; only the pages touched are resident), and the
 * tables from 2 MiB, the node arrays from HUGE_ADVISE, are marked for transparent huge pages: every apply
 * step reads them at random, and with 4 KiB pages nearly each read also misses the TLB (about 10% of the
 * build time on CEA9601). A table is touched all over, so huge pages cost it no memory; a node array is
 * touched up to its last node, and a huge page makes 2 MiB resident for its first byte touched (edf9202's
 * order race held 4 MiB for a node array of 3 MiB). Mapping from 256 KiB rather than leaving such arrays to
 * malloc gives their memory back when they are freed (malloc keeps freed blocks of its heap, and raises its
 * own mapping threshold after each such free) and grows a node array in place up to 2 MiB. Whether an
 * array is mapped depends on its byte size only, so free and grow know which kind they hold. Elsewhere:
 * calloc / realloc / free. */

#if defined(__linux__) && defined(MADV_HUGEPAGE) && defined(MREMAP_MAYMOVE)
#define HUGE_MIN ((size_t)256 << 10)
#define MAP_ROUND ((size_t)2 << 20)
#define HUGE_ADVISE ((size_t)8 << 20)
static size_t region_round(size_t bytes) { return (bytes + MAP_ROUND - 1) & ~(MAP_ROUND - 1); }

static void advise_huge(void *p, size_t bytes) {
    if (bytes >= HUGE_ADVISE) (void)madvise(p, bytes, MADV_HUGEPAGE);
}

static void *region_alloc(size_t bytes) { /* zero-filled */
    if (bytes < HUGE_MIN) return calloc(1, bytes);
    bytes = region_round(bytes);
    void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return NULL;
    advise_huge(p, bytes);
    return p;
}

/* A table (zero-filled): huge pages from 2 MiB. */
static void *table_alloc(size_t bytes) {
    void *p = region_alloc(bytes);
    if (p && bytes >= MAP_ROUND && bytes < HUGE_ADVISE) (void)madvise(p, region_round(bytes), MADV_HUGEPAGE);
    return p;
}

static void region_free(void *p, size_t bytes) {
    if (!p) return;
    if (bytes < HUGE_MIN)
        free(p);
    else
        munmap(p, region_round(bytes));
}

/* Grow to nbytes > obytes, keeping the contents (the new part is not initialised). */
static void *region_grow(void *p, size_t obytes, size_t nbytes) {
    if (nbytes < HUGE_MIN) return realloc(p, nbytes);
    if (obytes < HUGE_MIN) {
        void *q = region_alloc(nbytes);
        if (!q) return NULL;
        memcpy(q, p, obytes);
        free(p);
        return q;
    }
    size_t o = region_round(obytes), n = region_round(nbytes);
    if (o == n) return p;
    void *q = mremap(p, o, n, MREMAP_MAYMOVE);
    if (q == MAP_FAILED) return NULL;
    advise_huge(q, n);
    return q;
}
#else
static void *region_alloc(size_t bytes) { return calloc(1, bytes); }
static void *table_alloc(size_t bytes) { return calloc(1, bytes); }
static void region_free(void *p, size_t bytes) {
    (void)bytes;
    free(p);
}
static void *region_grow(void *p, size_t obytes, size_t nbytes) {
    (void)obytes;
    return realloc(p, nbytes);
}
#endif

/* ------------------------------------------------------------------------------------------------------ */
/* Tables                                                                                                 */

static unsigned log2_of(size_t size) {
    unsigned bits = 0;
    while (((size_t)1 << bits) < size) bits++;
    return bits;
}

/* The unique table at `size` slots, rebuilt from the nodes, and a fresh computed table with it. The old tables
 * are freed first: the unique table is rebuilt from the node array and the computed table is only a cache, so
 * neither is copied, and at a growth the peak memory holds one generation of tables instead of two (on
 * edf9202's race about 3.5 MiB less). Dropping the cached results changes which nodes an apply makes in no
 * way (see Manager_park). On failure both tables are NULL and -1 is returned; the next operation rebuilds
 * them (unpark). */
static int grow_unique(Manager *m, size_t size) {
    if (m->ut) region_free(m->ut, (m->umask + 1) * sizeof(USlot));
    if (m->ct) region_free(m->ct, (m->cmask + 1) * sizeof(CSlot));
    m->ut = NULL;
    m->ct = NULL;
    m->cmask = 0;
    USlot *nt = (USlot *)table_alloc(size * sizeof(USlot));
    /* The computed table follows the unique table (half as many slots: on CEA9601 a bigger cache costs more
     * in memory traffic than its extra hits save). */
    size_t csize = CACHE_RATIO >= 0 ? size << CACHE_RATIO : size >> (-(CACHE_RATIO));
    CSlot *ct = nt ? (CSlot *)table_alloc(csize * sizeof(CSlot)) : NULL;
    if (!ct) {
        region_free(nt, size * sizeof(USlot));
        return -1;
    }
    m->ct = ct;
    m->cmask = csize - 1;
    m->cshift = 64 - log2_of(csize);
    m->ut = nt;
    m->umask = size - 1;
    m->ushift = 64 - log2_of(size);
    m->ugrow = size / 4 * 3;
    const Node *nodes = m->nodes;
    for (size_t i = 1; i < m->n; i++) {
        uint64_t hv = nhash(nodes[i].var, nodes[i].hi, nodes[i].lo);
        size_t h = (size_t)(hv >> m->ushift);
        while (nt[h].idx) h = (h + 1) & m->umask;
        nt[h].tag = (uint32_t)hv;
        nt[h].idx = (uint32_t)i;
    }
    return 0;
}

/* The edge of node (v, t, e), created if needed; NO_EDGE on error (m->err says which). */
static inline uint32_t mk(Manager *m, uint32_t v, uint32_t t, uint32_t e) {
    if (t == e) return t;
    uint32_t c = t & 1u;
    t ^= c;
    e ^= c;
    uint64_t hv = nhash(v, t, e);
    uint32_t tag = (uint32_t)hv;
    size_t h = (size_t)(hv >> m->ushift);
    const USlot *ut = m->ut;
    const Node *nodes = m->nodes;
    for (;;) {
        USlot s = ut[h];
        if (!s.idx) break;
        if (s.tag == tag) {
            const Node *nd = &nodes[s.idx];
            if (nd->var == v && nd->hi == t && nd->lo == e) return (s.idx << 1) | c;
        }
        h = (h + 1) & m->umask;
    }
    size_t idx = m->n;
    if (m->limit && (uint64_t)idx > m->limit) {
        m->err = ERR_LIMIT;
        return NO_EDGE;
    }
    if (idx >= MAX_NODES) {
        m->err = ERR_TOOBIG;
        return NO_EDGE;
    }
    /* Ctrl-C during a long apply: look every 2^20 new nodes (a few ms). The exception is set by the check;
     * nodes made so far stay valid, so the manager remains usable. */
    if ((idx & 0xFFFFFu) == 0 && PyErr_CheckSignals() < 0) {
        m->err = ERR_SIGNAL;
        return NO_EDGE;
    }
    if (idx == m->cap) {
        size_t ncap = m->cap * 2;
        if (ncap > MAX_NODES) ncap = MAX_NODES;
        Node *nn = (Node *)region_grow(m->nodes, m->cap * sizeof(Node), ncap * sizeof(Node));
        if (!nn) {
            m->err = ERR_NOMEM;
            return NO_EDGE;
        }
        m->nodes = nn;
        m->cap = ncap;
    }
    if (idx + 1 > m->ugrow) {
        if (grow_unique(m, (m->umask + 1) * 2) < 0) {
            m->err = ERR_NOMEM;
            return NO_EDGE;
        }
        h = (size_t)(hv >> m->ushift);
        while (m->ut[h].idx) h = (h + 1) & m->umask;
    }
    Node *nd = &m->nodes[idx];
    nd->var = v;
    nd->hi = t;
    nd->lo = e;
    USlot *s = &m->ut[h];
    s->tag = tag;
    s->idx = (uint32_t)idx;
    m->n = idx + 1;
    return ((uint32_t)idx << 1) | c;
}

static inline int push_frame(Manager *m, size_t sp) {
    if (sp < m->stkcap) return 0;
    size_t ncap = m->stkcap ? m->stkcap * 2 : 64;
    Frame *ns = (Frame *)realloc(m->stk, ncap * sizeof(Frame));
    if (!ns) {
        m->err = ERR_NOMEM;
        return -1;
    }
    m->stk = ns;
    m->stkcap = ncap;
    return 0;
}

/* ------------------------------------------------------------------------------------------------------ */
/* AND                                                                                                    */

static inline int and_terminal(uint32_t f, uint32_t g, uint32_t *r) {
    if (f == g || g == E_TRUE) {
        *r = f;
        return 1;
    }
    if (f == E_TRUE) {
        *r = g;
        return 1;
    }
    if ((f ^ g) == 1u || f == E_FALSE || g == E_FALSE) {
        *r = E_FALSE;
        return 1;
    }
    return 0;
}

static uint32_t bdd_and(Manager *m, uint32_t f, uint32_t g) {
    uint32_t r;
    if (and_terminal(f, g, &r)) return r;
    if (f > g) {
        uint32_t x = f;
        f = g;
        g = x;
    }
    CSlot *cs = cslot(m, f, g);
    if (cs->a == f && cs->b == g) return cs->r;
    size_t sp = 0;
    for (;;) {
        /* Descend into (f, g): normalised, not terminal, not cached. */
        {
            const Node *nf = &m->nodes[f >> 1], *ng = &m->nodes[g >> 1];
            uint32_t vf = nf->var, vg = ng->var, v, f1, f0, g1, g0;
            if (vf <= vg) {
                uint32_t c = f & 1u;
                f1 = nf->hi ^ c;
                f0 = nf->lo ^ c;
                v = vf;
            } else {
                f1 = f0 = f;
                v = vg;
            }
            if (vg <= vf) {
                uint32_t c = g & 1u;
                g1 = ng->hi ^ c;
                g0 = ng->lo ^ c;
            } else {
                g1 = g0 = g;
            }
            if (push_frame(m, sp) < 0) return NO_EDGE;
            Frame *fr = &m->stk[sp++];
            fr->f = f;
            fr->g = g;
            fr->f0 = f0;
            fr->g0 = g0;
            fr->v = v;
            fr->t = NO_EDGE;
            if (!and_terminal(f1, g1, &r)) {
                if (f1 > g1) {
                    uint32_t x = f1;
                    f1 = g1;
                    g1 = x;
                }
                cs = cslot(m, f1, g1);
                if (cs->a == f1 && cs->b == g1) {
                    r = cs->r;
                } else {
                    f = f1;
                    g = g1;
                    continue;
                }
            }
        }
        /* Ascend with result r. */
        for (;;) {
            Frame *fr = &m->stk[sp - 1];
            if (fr->t == NO_EDGE) {
                fr->t = r;
                uint32_t a = fr->f0, b = fr->g0;
                if (and_terminal(a, b, &r)) continue;
                if (a > b) {
                    uint32_t x = a;
                    a = b;
                    b = x;
                }
                cs = cslot(m, a, b);
                if (cs->a == a && cs->b == b) {
                    r = cs->r;
                    continue;
                }
                f = a;
                g = b;
                break;
            }
            r = mk(m, fr->v, fr->t, r);
            if (r == NO_EDGE) return NO_EDGE;
            cs = cslot(m, fr->f, fr->g);
            cs->a = fr->f;
            cs->b = fr->g;
            cs->r = r;
            if (--sp == 0) return r;
        }
    }
}

static inline uint32_t bdd_or(Manager *m, uint32_t f, uint32_t g) {
    uint32_t r = bdd_and(m, f ^ 1u, g ^ 1u);
    return r == NO_EDGE ? r : r ^ 1u;
}

/* ------------------------------------------------------------------------------------------------------ */
/* XOR: complements are pulled out (xor(~f, g) = ~xor(f, g)), so keys are two regular edges, stored a > b. */

/* 1 if (f, g) resolves to *r (terminal or cached); else 0 with the normalised key in *a > *b and the
 * complement of the result in *c. */
static inline int xor_prepare(const Manager *m, uint32_t f, uint32_t g, uint32_t *a, uint32_t *b, uint32_t *c,
                              uint32_t *r) {
    uint32_t cc = (f ^ g) & 1u;
    f &= ~1u;
    g &= ~1u;
    if (f == g) {
        *r = E_FALSE ^ cc;
        return 1;
    }
    if (f == E_TRUE) {
        *r = g ^ 1u ^ cc;
        return 1;
    }
    if (g == E_TRUE) {
        *r = f ^ 1u ^ cc;
        return 1;
    }
    if (f < g) {
        uint32_t x = f;
        f = g;
        g = x;
    }
    const CSlot *cs = cslot(m, f, g);
    if (cs->a == f && cs->b == g) {
        *r = cs->r ^ cc;
        return 1;
    }
    *a = f;
    *b = g;
    *c = cc;
    return 0;
}

static uint32_t bdd_xor(Manager *m, uint32_t f0_, uint32_t g0_) {
    uint32_t r, f, g, c;
    if (xor_prepare(m, f0_, g0_, &f, &g, &c, &r)) return r;
    size_t sp = 0;
    for (;;) {
        {
            const Node *nf = &m->nodes[f >> 1], *ng = &m->nodes[g >> 1];
            uint32_t vf = nf->var, vg = ng->var, v, f1, f0, g1, g0;
            if (vf <= vg) {
                f1 = nf->hi;
                f0 = nf->lo;
                v = vf;
            } else {
                f1 = f0 = f;
                v = vg;
            }
            if (vg <= vf) {
                g1 = ng->hi;
                g0 = ng->lo;
            } else {
                g1 = g0 = g;
            }
            if (push_frame(m, sp) < 0) return NO_EDGE;
            Frame *fr = &m->stk[sp++];
            fr->f = f;
            fr->g = g;
            fr->f0 = f0;
            fr->g0 = g0;
            fr->v = v;
            fr->c = c;
            fr->t = NO_EDGE;
            if (!xor_prepare(m, f1, g1, &f, &g, &c, &r)) continue;
        }
        for (;;) {
            Frame *fr = &m->stk[sp - 1];
            if (fr->t == NO_EDGE) {
                fr->t = r;
                if (xor_prepare(m, fr->f0, fr->g0, &f, &g, &c, &r)) continue;
                break;
            }
            r = mk(m, fr->v, fr->t, r);
            if (r == NO_EDGE) return NO_EDGE;
            CSlot *cs = cslot(m, fr->f, fr->g);
            cs->a = fr->f;
            cs->b = fr->g;
            cs->r = r;
            r ^= fr->c;
            if (--sp == 0) return r;
        }
    }
}

/* ------------------------------------------------------------------------------------------------------ */
/* Reachability helpers (size, flatten). The MARK bit of a node's var field marks it during one call and is
 * cleared before the call returns. */

static int buf_reserve(Manager *m, size_t need) {
    if (need <= m->bufcap) return 0;
    size_t ncap = m->bufcap ? m->bufcap : 1024;
    while (ncap < need) ncap *= 2;
    uint32_t *nb = (uint32_t *)realloc(m->buf, ncap * sizeof(uint32_t));
    if (!nb) return -1;
    m->buf = nb;
    m->bufcap = ncap;
    return 0;
}

/* Number of nodes reachable from edge f (terminal included); -1 on memory error. */
static Py_ssize_t dag_size(Manager *m, uint32_t f) {
    Node *nodes = m->nodes;
    size_t count = 0, head = 0;
    if (buf_reserve(m, 64) < 0) return -1;
    uint32_t root = f >> 1;
    m->buf[count++] = root;
    nodes[root].var |= MARK;
    int failed = 0;
    while (head < count) {
        uint32_t nd = m->buf[head++];
        if (nd == 0) continue;
        uint32_t kids[2] = {nodes[nd].hi >> 1, nodes[nd].lo >> 1};
        for (int k = 0; k < 2; k++) {
            uint32_t ch = kids[k];
            if (nodes[ch].var & MARK) continue;
            if (count == m->bufcap && buf_reserve(m, count + 1) < 0) {
                failed = 1;
                break;
            }
            nodes[ch].var |= MARK;
            m->buf[count++] = ch;
        }
        if (failed) break;
    }
    for (size_t i = 0; i < count; i++) nodes[m->buf[i]].var &= ~MARK;
    return failed ? -1 : (Py_ssize_t)count;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Python glue                                                                                            */

static int raise_err(Manager *m) {
    switch (m->err) {
    case ERR_LIMIT:
        PyErr_Format(PyExc_OverflowError, "BDD node limit %llu exceeded", (unsigned long long)m->limit);
        break;
    case ERR_SIGNAL:
        break; /* PyErr_CheckSignals has set the exception (KeyboardInterrupt) */
    case ERR_TOOBIG:
        PyErr_SetString(PyExc_OverflowError, "BDD node limit exceeded: more than 2^31 nodes");
        break;
    default:
        PyErr_NoMemory();
        break;
    }
    m->err = ERR_NONE;
    return -1;
}

static PyObject *edge_result(Manager *m, uint32_t r) {
    if (r == NO_EDGE) {
        raise_err(m);
        return NULL;
    }
    return PyLong_FromUnsignedLong(r);
}

static int get_edge(Manager *m, PyObject *o, uint32_t *out) {
    if (!PyIndex_Check(o)) {
        PyErr_Format(PyExc_TypeError, "an edge must be an int, not %.100s", Py_TYPE(o)->tp_name);
        return -1;
    }
    PyObject *i = PyNumber_Index(o);
    if (!i) return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(i, &overflow);
    Py_DECREF(i);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (overflow || v < 0 || (unsigned long long)v >= 2ull * m->n) {
        PyErr_Format(PyExc_ValueError, "edge %R does not point at a node of this manager", o);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* A Python int in [lo, hi] as long long; -1 with an exception on error (check PyErr_Occurred). */
static int get_int(PyObject *o, const char *what, long long lo, long long hi, long long *out) {
    if (!PyIndex_Check(o)) {
        PyErr_Format(PyExc_TypeError, "%s must be an int, not %.100s", what, Py_TYPE(o)->tp_name);
        return -1;
    }
    PyObject *i = PyNumber_Index(o);
    if (!i) return -1;
    int overflow = 0;
    long long v = PyLong_AsLongLongAndOverflow(i, &overflow);
    Py_DECREF(i);
    if (v == -1 && PyErr_Occurred()) return -1;
    if (overflow || v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s out of range: %R", what, o);
        return -1;
    }
    *out = v;
    return 0;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Typed arrays                                                                                           */

#if INT_MAX != 0x7FFFFFFF
#error "array.array('i') must hold 32-bit ints"
#endif

static PyObject *array_type; /* array.array, looked up when the module is loaded */

/* A new array.array of type code `code` holding a copy of the `bytes` bytes at data. */
static PyObject *array_from(const char *code, const void *data, size_t bytes) {
    PyObject *arr = PyObject_CallFunction(array_type, "s", code);
    if (!arr || bytes == 0) return arr;
    PyObject *mv = PyMemoryView_FromMemory((char *)data, (Py_ssize_t)bytes, PyBUF_READ);
    PyObject *r = mv ? PyObject_CallMethod(arr, "frombytes", "(O)", mv) : NULL;
    Py_XDECREF(mv);
    if (!r) {
        Py_DECREF(arr);
        return NULL;
    }
    Py_DECREF(r);
    return arr;
}


/* An argument of int32 items: read in place from a buffer, or converted from a sequence into `copy`. */
typedef struct {
    const int32_t *items;
    Py_ssize_t n;
    int32_t *copy;
    Py_buffer view; /* view.obj != NULL: a held buffer */
} IntArg;

/* The same for doubles. */
typedef struct {
    const double *items;
    Py_ssize_t n;
    double *copy;
    Py_buffer view;
} FloatArg;

static void int_arg_free(IntArg *a) {
    PyBuffer_Release(&a->view); /* nothing when view.obj is NULL */
    free(a->copy);
    a->copy = NULL;
}

static void float_arg_free(FloatArg *a) {
    PyBuffer_Release(&a->view);
    free(a->copy);
    a->copy = NULL;
}

/* Item i of the fast sequence `seq`, which may have shrunk since the last item was read: the __index__ or
 * __float__ of an item is Python code that can change any list. NULL with ValueError if it is gone. */
static PyObject *fast_item(PyObject *seq, Py_ssize_t i, const char *what) {
    if (i >= PySequence_Fast_GET_SIZE(seq)) {
        PyErr_Format(PyExc_ValueError, "%s changed size during the call", what);
        return NULL;
    }
    return PySequence_Fast_GET_ITEM(seq, i);
}

/* obj as int32 items: an 'i' buffer in place, else any sequence of ints (TypeError for a non-int, ValueError
 * for an int that does not fit 32 bits: no valid level, edge or node does). */
static int int_arg(PyObject *obj, const char *what, IntArg *a) {
    a->items = NULL;
    a->n = 0;
    a->copy = NULL;
    int r = typed_view(obj, "il", 4, &a->view, what);
    if (r < 0) return -1;
    if (r) {
        a->items = (const int32_t *)a->view.buf;
        a->n = a->view.len / 4;
        return 0;
    }
    PyObject *seq = PySequence_Fast(obj, what);
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    a->copy = (int32_t *)malloc(((size_t)n + 1) * sizeof(int32_t));
    if (!a->copy) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = fast_item(seq, i, what);
        long long v;
        int overflow = 0;
        if (!o) goto fail;
        if (PyLong_CheckExact(o)) {
            v = PyLong_AsLongLongAndOverflow(o, &overflow);
        } else {
            Py_INCREF(o);
            int rc = get_int(o, what, LLONG_MIN, LLONG_MAX, &v);
            Py_DECREF(o);
            if (rc < 0) goto fail;
        }
        if (overflow || v < INT32_MIN || v > INT32_MAX) {
            PyErr_Format(PyExc_ValueError, "%s[%zd] out of range", what, i);
            goto fail;
        }
        a->copy[i] = (int32_t)v;
    }
    Py_DECREF(seq);
    a->items = a->copy;
    a->n = n;
    return 0;
fail:
    Py_DECREF(seq);
    int_arg_free(a);
    return -1;
}

/* obj as doubles: a 'd' buffer in place, else any sequence of numbers. */
static int float_arg(PyObject *obj, const char *what, FloatArg *a) {
    a->items = NULL;
    a->n = 0;
    a->copy = NULL;
    int r = typed_view(obj, "d", 8, &a->view, what);
    if (r < 0) return -1;
    if (r) {
        a->items = (const double *)a->view.buf;
        a->n = a->view.len / 8;
        return 0;
    }
    PyObject *seq = PySequence_Fast(obj, what);
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    a->copy = (double *)malloc(((size_t)n + 1) * sizeof(double));
    if (!a->copy) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = fast_item(seq, i, what);
        double v;
        if (!o) goto fail;
        if (PyFloat_CheckExact(o)) {
            v = PyFloat_AS_DOUBLE(o);
        } else {
            Py_INCREF(o);
            v = PyFloat_AsDouble(o);
            Py_DECREF(o);
            if (v == -1.0 && PyErr_Occurred()) goto fail;
        }
        a->copy[i] = v;
    }
    Py_DECREF(seq);
    a->items = a->copy;
    a->n = n;
    return 0;
fail:
    Py_DECREF(seq);
    float_arg_free(a);
    return -1;
}

static PyObject *Manager_new(PyTypeObject *type, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"nvars", "node_limit", NULL};
    PyObject *onvars, *olimit = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|O:Manager", kwlist, &onvars, &olimit)) return NULL;
    long long nvars, limit = 0;
    if (get_int(onvars, "nvars", 0, MAX_VARS, &nvars) < 0) return NULL;
    if (olimit && get_int(olimit, "node_limit", 0, LLONG_MAX, &limit) < 0) return NULL;
    Manager *m = (Manager *)type->tp_alloc(type, 0);
    if (!m) return NULL;
    m->nvars = (uint32_t)nvars;
    m->limit = (uint64_t)limit;
    m->cap = 1024;
    m->nodes = (Node *)region_alloc(m->cap * sizeof(Node));
    m->ut = NULL;
    m->ct = NULL;
    m->stk = NULL;
    m->buf = NULL;
    m->packed = NULL;
    m->n = 1;
    if (!m->nodes || grow_unique(m, 4096) < 0) {
        Py_DECREF(m);
        return PyErr_NoMemory();
    }
    m->nodes[0].var = m->nvars; /* the terminal sits below every variable */
    m->nodes[0].hi = m->nodes[0].lo = E_TRUE;
    return (PyObject *)m;
}

static void Manager_dealloc(Manager *m) {
    region_free(m->nodes, m->cap * sizeof(Node));
    region_free(m->packed, m->packed_bytes);
    if (m->ut) region_free(m->ut, (m->umask + 1) * sizeof(USlot));
    if (m->ct) region_free(m->ct, (m->cmask + 1) * sizeof(CSlot));
    free(m->stk);
    free(m->buf);
    Py_TYPE(m)->tp_free((PyObject *)m);
}

/* Packed nodes: per node after the terminal, LEB128 varints of the variable's change from the previous node
 * (zigzag) and of each child's distance below the node (times 2, plus the complement bit). Children are
 * numbered just below their parents more often than not: on edf9202's order race 4.5-4.7 bytes a node where
 * the array holds 12, in about 1 ms for 160,000 nodes. */
#define PACK_MAX ((size_t)1 << 20) /* park() packs managers of at most this many nodes */

static inline size_t varint_len(uint32_t x) {
    size_t c = 1;
    while (x >= 0x80u) {
        x >>= 7;
        c++;
    }
    return c;
}

static inline uint8_t *varint_put(uint8_t *p, uint32_t x) {
    while (x >= 0x80u) {
        *p++ = (uint8_t)(x | 0x80u);
        x >>= 7;
    }
    *p++ = (uint8_t)x;
    return p;
}

static inline const uint8_t *varint_get(const uint8_t *p, uint32_t *x) {
    uint32_t v = 0;
    unsigned shift = 0;
    for (;;) {
        uint8_t b = *p++;
        v |= (uint32_t)(b & 0x7Fu) << shift;
        if (!(b & 0x80u)) break;
        shift += 7;
    }
    *x = v;
    return p;
}

/* The three numbers node i is packed as (i >= 1: its children are below it). */
static inline void pack_fields(const Node *nodes, size_t i, uint32_t out[3]) {
    int64_t dv = (int64_t)nodes[i].var - (int64_t)nodes[i - 1].var;
    out[0] = (uint32_t)(dv >= 0 ? (uint64_t)dv << 1 : (((uint64_t)(-dv)) << 1) - 1);
    uint32_t hi = nodes[i].hi, lo = nodes[i].lo;
    out[1] = (((uint32_t)i - (hi >> 1) - 1u) << 1) | (hi & 1u);
    out[2] = (((uint32_t)i - (lo >> 1) - 1u) << 1) | (lo & 1u);
}

/* The node array packed into m->packed and freed; 0, or -1 (the array stays, nothing else changes). */
static int pack_nodes(Manager *m) {
    const Node *nodes = m->nodes;
    size_t bytes = 0;
    uint32_t f[3];
    for (size_t i = 1; i < m->n; i++) {
        pack_fields(nodes, i, f);
        bytes += varint_len(f[0]) + varint_len(f[1]) + varint_len(f[2]);
    }
    if (!bytes) bytes = 1;
    uint8_t *buf = (uint8_t *)region_alloc(bytes);
    if (!buf) return -1;
    uint8_t *p = buf;
    for (size_t i = 1; i < m->n; i++) {
        pack_fields(nodes, i, f);
        p = varint_put(varint_put(varint_put(p, f[0]), f[1]), f[2]);
    }
    region_free(m->nodes, m->cap * sizeof(Node));
    m->nodes = NULL;
    m->cap = 0;
    m->packed = buf;
    m->packed_bytes = bytes;
    return 0;
}

/* The node array of a parked manager, unpacked (with room for at least 1024 nodes); -1 when out of memory
 * (the manager stays parked). */
static int unpack_nodes(Manager *m) {
    if (!m->packed) return 0;
    size_t cap = m->n < 1024 ? 1024 : m->n;
    Node *nodes = (Node *)region_alloc(cap * sizeof(Node));
    if (!nodes) return -1;
    nodes[0].var = m->nvars;
    nodes[0].hi = nodes[0].lo = E_TRUE;
    const uint8_t *p = m->packed;
    for (size_t i = 1; i < m->n; i++) {
        uint32_t dv, hi, lo;
        p = varint_get(varint_get(varint_get(p, &dv), &hi), &lo);
        nodes[i].var = (dv & 1u) ? nodes[i - 1].var - ((dv >> 1) + 1u) : nodes[i - 1].var + (dv >> 1);
        nodes[i].hi = (((uint32_t)i - (hi >> 1) - 1u) << 1) | (hi & 1u);
        nodes[i].lo = (((uint32_t)i - (lo >> 1) - 1u) << 1) | (lo & 1u);
    }
    region_free(m->packed, m->packed_bytes);
    m->packed = NULL;
    m->nodes = nodes;
    m->cap = cap;
    return 0;
}

/* A build stopped at its node limit that may be resumed later keeps only its nodes, packed: park() frees the
 * unique and computed tables (rebuilt from the nodes on the next operation) and packs the node array (about
 * 4.6 bytes a node, against 12 unpacked and about 30 with the tables; unpacked again by the next operation
 * that reads nodes). The nodes allocated by later operations do not depend on it: the nodes an apply creates
 * are the results of its sub-problems that do not exist yet, whatever the computed table remembers, so a
 * parked and resumed build makes exactly the nodes of one that was not (the order race compares builds by
 * those counts). */
static PyObject *Manager_park(Manager *m, PyObject *Py_UNUSED(ignored)) {
    if (m->ut) {
        region_free(m->ut, (m->umask + 1) * sizeof(USlot));
        m->ut = NULL;
    }
    if (m->ct) {
        region_free(m->ct, (m->cmask + 1) * sizeof(CSlot));
        m->ct = NULL;
        m->cmask = 0;
    }
    free(m->stk);
    m->stk = NULL;
    m->stkcap = 0;
    free(m->buf);
    m->buf = NULL;
    m->bufcap = 0;
    /* Packing costs about 15 ns a node (pack and unpack): on the bigger races (cea9601: parks of up to 4 M
     * nodes, with 100-200 MiB of headroom under SCRAM's peak) the node array is only trimmed, as before. */
    if (m->nodes && m->n <= PACK_MAX && pack_nodes(m) == 0) Py_RETURN_NONE;
    size_t ncap = m->n < 1024 ? 1024 : m->n;
    if (m->nodes && ncap < m->cap) {
        Node *nn = (Node *)region_alloc(ncap * sizeof(Node));
        if (nn) { /* without memory to trim, the array stays as it was */
            memcpy(nn, m->nodes, m->n * sizeof(Node));
            region_free(m->nodes, m->cap * sizeof(Node));
            m->nodes = nn;
            m->cap = ncap;
        }
    }
    Py_RETURN_NONE;
}

/* The nodes of a parked manager, before an operation that reads them; -1 with an exception set. */
static int unpark_nodes(Manager *m) {
    if (unpack_nodes(m) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

/* The nodes and tables of a parked manager, before an operation that makes nodes; -1 with an exception set. */
static int unpark(Manager *m) {
    if (unpark_nodes(m) < 0) return -1;
    if (m->ut) return 0;
    size_t size = 4096;
    while (m->n + 1 > size / 4 * 3) size *= 2;
    if (grow_unique(m, size) < 0) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
}

static PyObject *Manager_var(Manager *m, PyObject *arg) {
    long long i;
    if (get_int(arg, "variable index", 0, (long long)m->nvars - 1, &i) < 0) return NULL;
    if (unpark(m) < 0) return NULL;
    return edge_result(m, mk(m, (uint32_t)i, E_TRUE, E_FALSE));
}

static int two_edges(Manager *m, PyObject *const *args, Py_ssize_t nargs, const char *name, uint32_t *f,
                     uint32_t *g) {
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "%s() takes exactly 2 arguments (%zd given)", name, nargs);
        return -1;
    }
    if (get_edge(m, args[0], f) < 0 || get_edge(m, args[1], g) < 0) return -1;
    return unpark(m);
}

static PyObject *Manager_and(Manager *m, PyObject *const *args, Py_ssize_t nargs) {
    uint32_t f, g;
    if (two_edges(m, args, nargs, "and_", &f, &g) < 0) return NULL;
    return edge_result(m, bdd_and(m, f, g));
}

static PyObject *Manager_or(Manager *m, PyObject *const *args, Py_ssize_t nargs) {
    uint32_t f, g;
    if (two_edges(m, args, nargs, "or_", &f, &g) < 0) return NULL;
    return edge_result(m, bdd_or(m, f, g));
}

static PyObject *Manager_xor(Manager *m, PyObject *const *args, Py_ssize_t nargs) {
    uint32_t f, g;
    if (two_edges(m, args, nargs, "xor", &f, &g) < 0) return NULL;
    return edge_result(m, bdd_xor(m, f, g));
}

/* "At least k of the n edges e" (NO_EDGE with m->err set on failure). t[j] = "at least j of the inputs seen
 * so far" (bdd._atleast). After input i only t[j] with j <= i can be true, and t[k] at the end needs t[j]
 * only for j >= k - (inputs left). */
static uint32_t bdd_atleast(Manager *m, long long k, const uint32_t *e, Py_ssize_t n) {
    if (k <= 0) return E_TRUE;
    if (k > n) return E_FALSE;
    Py_ssize_t kk = (Py_ssize_t)k;
    uint32_t *t = (uint32_t *)malloc(((size_t)kk + 1) * sizeof(uint32_t));
    if (!t) {
        m->err = ERR_NOMEM;
        return NO_EDGE;
    }
    t[0] = E_TRUE;
    for (Py_ssize_t j = 1; j <= kk; j++) t[j] = E_FALSE;
    uint32_t r = E_FALSE;
    for (Py_ssize_t i = 1; i <= n && r != NO_EDGE; i++) {
        uint32_t x = e[i - 1];
        Py_ssize_t jhi = i < kk ? i : kk;
        Py_ssize_t jlo = kk - (n - i);
        if (jlo < 1) jlo = 1;
        for (Py_ssize_t j = jhi; j >= jlo; j--) {
            uint32_t a = bdd_and(m, x, t[j - 1]);
            if (a == NO_EDGE) {
                r = NO_EDGE;
                break;
            }
            a = bdd_or(m, t[j], a);
            if (a == NO_EDGE) {
                r = NO_EDGE;
                break;
            }
            t[j] = a;
        }
    }
    if (r != NO_EDGE) r = t[kk];
    free(t);
    return r;
}

static PyObject *Manager_atleast(Manager *m, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 2) {
        PyErr_Format(PyExc_TypeError, "atleast() takes exactly 2 arguments (%zd given)", nargs);
        return NULL;
    }
    long long k;
    if (get_int(args[0], "k", 0, LLONG_MAX, &k) < 0) return NULL;
    if (unpark(m) < 0) return NULL;
    PyObject *seq = PySequence_Fast(args[1], "atleast() needs a sequence of edges");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject **items = PySequence_Fast_ITEMS(seq);
    uint32_t *e = (uint32_t *)malloc(((size_t)n + 1) * sizeof(uint32_t));
    if (!e) {
        Py_DECREF(seq);
        return PyErr_NoMemory();
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (get_edge(m, items[i], &e[i]) < 0) {
            free(e);
            Py_DECREF(seq);
            return NULL;
        }
    }
    Py_DECREF(seq);
    uint32_t r = bdd_atleast(m, k, e, n);
    free(e);
    return edge_result(m, r);
}

static PyObject *Manager_size(Manager *m, PyObject *arg) {
    uint32_t f;
    if (get_edge(m, arg, &f) < 0 || unpark_nodes(m) < 0) return NULL;
    Py_ssize_t s = dag_size(m, f);
    if (s < 0) return PyErr_NoMemory();
    return PyLong_FromSsize_t(s);
}

/* Flattened BDDs have at most this many nodes, so that every edge fits an int32 (array('i')). */
#define MAX_FLAT ((size_t)1 << 30)

/* (level, high, low, root): the sub-DAG of f numbered by a then-first post-order walk, the order of CUDD's
 * DDDMP dump (and so of bdd._flatten): children before parents, the terminal first. The numbering depends
 * on the function only, not on the history of the manager. level, high and low are array('i'). The arrays
 * are made once every node's mark is cleared: making a Python object may run any Python code (a garbage
 * collection runs finalizers), which may call this manager. */
static PyObject *Manager_flatten(Manager *m, PyObject *arg) {
    uint32_t f;
    if (get_edge(m, arg, &f) < 0 || unpark_nodes(m) < 0) return NULL;
    uint32_t root = f >> 1;
    Node *nodes = m->nodes;
    size_t cap = 1024, cnt = 0, sp = 0, stcap = 256;
    uint32_t *order = (uint32_t *)malloc(cap * sizeof(uint32_t));
    uint32_t *saved = (uint32_t *)malloc(cap * sizeof(uint32_t));
    uint32_t *stack = (uint32_t *)malloc(stcap * sizeof(uint32_t));
    uint32_t *hi = NULL, *lo = NULL;
    int failed = !order || !saved || !stack;
    if (!failed) stack[sp++] = root;
    while (!failed && sp) {
        uint32_t nd = stack[sp - 1], next = 0;
        int finish = 0;
        if (nd == 0) {
            finish = 1;
        } else {
            uint32_t hc = nodes[nd].hi >> 1, lc = nodes[nd].lo >> 1;
            if (!(nodes[hc].var & MARK))
                next = hc;
            else if (!(nodes[lc].var & MARK))
                next = lc;
            else
                finish = 1;
        }
        if (!finish) {
            if (sp == stcap) {
                uint32_t *s2 = (uint32_t *)realloc(stack, stcap * 2 * sizeof(uint32_t));
                if (!s2) {
                    failed = 1;
                    break;
                }
                stack = s2;
                stcap *= 2;
            }
            stack[sp++] = next;
            continue;
        }
        if (cnt == cap) {
            uint32_t *o2 = (uint32_t *)realloc(order, cap * 2 * sizeof(uint32_t));
            if (o2) order = o2;
            uint32_t *s2 = o2 ? (uint32_t *)realloc(saved, cap * 2 * sizeof(uint32_t)) : NULL;
            if (s2) saved = s2;
            if (!o2 || !s2) {
                failed = 1;
                break;
            }
            cap *= 2;
        }
        order[cnt] = nd;
        saved[cnt] = nodes[nd].var;
        nodes[nd].var = MARK | (uint32_t)cnt;
        cnt++;
        sp--;
    }
    uint32_t newroot = 0;
    int toobig = !failed && cnt > MAX_FLAT;
    failed |= toobig;
    if (!failed) {
        hi = (uint32_t *)malloc((cnt ? cnt : 1) * sizeof(uint32_t));
        lo = (uint32_t *)malloc((cnt ? cnt : 1) * sizeof(uint32_t));
        failed = !hi || !lo;
    }
    if (!failed) {
        hi[0] = lo[0] = E_TRUE;
        for (size_t i = 1; i < cnt; i++) {
            const Node *nd = &nodes[order[i]];
            hi[i] = ((nodes[nd->hi >> 1].var & ~MARK) << 1) | (nd->hi & 1u);
            lo[i] = ((nodes[nd->lo >> 1].var & ~MARK) << 1) | (nd->lo & 1u);
        }
        newroot = ((nodes[root].var & ~MARK) << 1) | (f & 1u);
    }
    for (size_t i = 0; i < cnt; i++) nodes[order[i]].var = saved[i];
    PyObject *res = NULL;
    if (!failed) {
        /* Node numbers, variable indices (< MAX_VARS) and edges (< 2 * MAX_FLAT) are all below 2^31: the
         * uint32 arrays hold the int32 values bit for bit. */
        free(order);
        free(stack);
        order = stack = NULL;
        PyObject *a = array_from("i", saved, cnt * sizeof(uint32_t));
        free(saved);
        saved = NULL;
        PyObject *b = a ? array_from("i", hi, cnt * sizeof(uint32_t)) : NULL;
        free(hi);
        hi = NULL;
        PyObject *c = b ? array_from("i", lo, cnt * sizeof(uint32_t)) : NULL;
        if (c) {
            res = Py_BuildValue("(NNNk)", a, b, c, (unsigned long)newroot);
        } else {
            Py_XDECREF(a);
            Py_XDECREF(b);
        }
    } else if (toobig) {
        PyErr_Format(PyExc_OverflowError, "cannot flatten a BDD of more than 2^30 nodes (%zu)", cnt);
    } else {
        PyErr_NoMemory();
    }
    free(order);
    free(saved);
    free(stack);
    free(hi);
    free(lo);
    return res;
}

static PyObject *Manager_get_nodes(Manager *m, void *closure) {
    (void)closure;
    return PyLong_FromSize_t(m->n - 1);
}

static PyObject *Manager_get_limit(Manager *m, void *closure) {
    (void)closure;
    return PyLong_FromUnsignedLongLong((unsigned long long)m->limit);
}

/* Raising the limit lets a build that stopped at it go on: nodes and cached results made before the stop
 * stay valid, so the interrupted operation can simply be called again (bdd.build resumes orders this way). */
static int Manager_set_limit(Manager *m, PyObject *value, void *closure) {
    (void)closure;
    long long limit;
    if (value == NULL) {
        PyErr_SetString(PyExc_TypeError, "node_limit cannot be deleted");
        return -1;
    }
    if (get_int(value, "node_limit", 0, LLONG_MAX, &limit) < 0) return -1;
    m->limit = (uint64_t)limit;
    return 0;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Module builds over flat gate arrays (bdd._OrderBuild): the walk of bdd._build_gate in C, with the same    */
/* sequence of node allocations, so that budgets stop and finish builds exactly where the Python walk did.   */

/* Gate kinds of the flat arrays (bdd.KIND_CODE). */
enum { K_AND = 0, K_OR, K_ATLEAST, K_XOR, K_NOT, K_NULL, K_NAND, K_NOR, K_LAST = K_NOR };

/* A writable 1-D array(code) of 4-byte items ('i' or 'I'), at least `n` of them. */
static int writable_ints(PyObject *obj, const char *code, Py_ssize_t n, const char *what, Py_buffer *view) {
    view->obj = NULL;
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_FORMAT | PyBUF_C_CONTIGUOUS) < 0) return -1;
    const char *fmt = view->format ? view->format : "B";
    if (*fmt == '@') fmt++;
    if (view->ndim != 1 || view->itemsize != 4 || strcmp(fmt, code) != 0) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_TypeError, "%s must be a writable array('%s')", what, code);
        return -1;
    }
    if (n >= 0 && view->len / 4 < n) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "%s holds fewer than %zd items", what, n);
        return -1;
    }
    return 0;
}

typedef struct {
    int32_t key; /* top variable of the input's BDD */
    int32_t pos; /* place among the gate's inputs: ties keep the order as written */
    uint32_t edge;
} SortIn;

static int sortin_cmp(const void *a, const void *b) {
    const SortIn *x = (const SortIn *)a, *y = (const SortIn *)b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1; /* deepest first */
    return x->pos < y->pos ? -1 : (x->pos > y->pos);
}

/* build_modules(kinds, ks, offsets, inputs, leafval, topv, values, stamp, modules, results, leaves, state,
 * top) -> None. See bdd._FlatTree for the layout. Builds the modules from state[0] on; raises OverflowError at
 * the node limit with state[0] at the module to redo (its finished gates are kept in values/stamp, so the
 * walk, restarted from the module's top, goes on at the step that failed). */
static PyObject *Manager_build_modules(Manager *m, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 13) {
        PyErr_Format(PyExc_TypeError, "build_modules() takes exactly 13 arguments (%zd given)", nargs);
        return NULL;
    }
    IntArg kinds, ks, offs, ins, mods;
    Py_buffer leafv, topv, vals, stmp, res, st;
    Py_buffer *views[] = {&leafv, &topv, &vals, &stmp, &res, &st};
    IntArg *ints[] = {&kinds, &ks, &offs, &ins, &mods};
    for (size_t i = 0; i < 6; i++) views[i]->obj = NULL;
    for (size_t i = 0; i < 5; i++) {
        ints[i]->copy = NULL;
        ints[i]->view.obj = NULL;
    }
    PyObject *leaves = args[10];
    SortIn *sorted = NULL;
    uint32_t *edges = NULL;
    int32_t *stack = NULL; /* entries: 2 * node + expanded */
    size_t sp = 0, stcap = 0;
    PyObject *ret = NULL;
    long long treetop;
    if (int_arg(args[0], "kinds", &kinds) < 0 || int_arg(args[1], "ks", &ks) < 0 ||
        int_arg(args[2], "offsets", &offs) < 0 || int_arg(args[3], "inputs", &ins) < 0 ||
        int_arg(args[8], "modules", &mods) < 0)
        goto done;
    Py_ssize_t n = kinds.n, nm = mods.n;
    if (writable_ints(args[4], "i", n, "leafval", &leafv) < 0 || writable_ints(args[5], "i", n, "topv", &topv) < 0 ||
        writable_ints(args[6], "I", n, "values", &vals) < 0 || writable_ints(args[7], "i", n, "stamp", &stmp) < 0 ||
        writable_ints(args[9], "I", nm, "results", &res) < 0 || writable_ints(args[11], "i", 1, "state", &st) < 0)
        goto done;
    if (get_int(args[12], "top", -1, LLONG_MAX, &treetop) < 0) goto done;
    if (!PyList_Check(leaves) || PyList_GET_SIZE(leaves) != nm) {
        PyErr_SetString(PyExc_TypeError, "leaves must be a list of one list per module");
        goto done;
    }
    int32_t *lv = (int32_t *)leafv.buf, *tv = (int32_t *)topv.buf, *stamp = (int32_t *)stmp.buf;
    int32_t *state = (int32_t *)st.buf;
    uint32_t *val = (uint32_t *)vals.buf, *result = (uint32_t *)res.buf;
    const int32_t *kind = kinds.items, *kk = ks.items, *off = offs.items, *in = ins.items, *mod = mods.items;
    /* Everything the walk indexes is checked first: the arrays come from Python. */
    if (ks.n < n || offs.n != n + 1 || off[0] != 0 || off[n] != ins.n || nm > INT32_MAX / 2 - 2) {
        PyErr_SetString(PyExc_ValueError, "build_modules: inconsistent array sizes");
        goto done;
    }
    Py_ssize_t widest = 1;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (off[i + 1] < off[i] || kind[i] < -3 || kind[i] > K_LAST ||
            (kind[i] < 0 && (lv[i] == -1 || off[i + 1] != off[i])) || lv[i] < -3 ||
            (lv[i] >= 0 && (uint32_t)lv[i] >= m->nvars) || tv[i] < 0 || (kind[i] < 0 && (uint32_t)tv[i] > m->nvars) ||
            ((kind[i] == K_NOT || kind[i] == K_NULL) && off[i + 1] == off[i])) {
            PyErr_Format(PyExc_ValueError, "build_modules: bad node %zd", i);
            goto done;
        }
        if (off[i + 1] - off[i] > widest) widest = off[i + 1] - off[i];
    }
    for (Py_ssize_t i = 0; i < ins.n; i++)
        if (in[i] < 0 || in[i] >= n) {
            PyErr_Format(PyExc_ValueError, "build_modules: input %zd out of range", i);
            goto done;
        }
    for (Py_ssize_t i = 0; i < nm; i++)
        if (mod[i] < 0 || mod[i] >= n || kind[mod[i]] < 0) {
            PyErr_Format(PyExc_ValueError, "build_modules: module %zd is not a gate", i);
            goto done;
        }
    if (state[0] < 0 || state[0] > nm) {
        PyErr_SetString(PyExc_ValueError, "build_modules: state out of range");
        goto done;
    }
    if (unpark(m) < 0) goto done;
    sorted = (SortIn *)malloc((size_t)widest * sizeof(SortIn));
    edges = (uint32_t *)malloc((size_t)widest * sizeof(uint32_t));
    stcap = 256;
    stack = (int32_t *)malloc(stcap * sizeof(int32_t));
    if (!sorted || !edges || !stack) {
        PyErr_NoMemory();
        goto done;
    }
    for (; state[0] < nm; state[0]++) {
        int32_t pos = state[0], top = mod[pos];
        /* stamp[x] == openmark: x is being expanded in this module (a second visit is a cycle); == donemark: val[x]
         * is x's BDD in this module. Values are per module, as bdd._build_gate's dict: a gate under two
         * modules (a thin module built inside each parent) is walked in each, with its leaves. */
        int32_t openmark = 2 * pos + 1, donemark = 2 * pos + 2;
        sp = 0;
        stack[sp++] = 2 * top;
        while (sp) {
            int32_t x = stack[--sp] >> 1, expanded = stack[sp] & 1;
            if (stamp[x] == donemark) continue;
            uint32_t r;
            if (x != top && lv[x] != -1) { /* an event, a house event or another module: a leaf */
                int32_t l = lv[x];
                if (kind[x] == -3) {
                    PyErr_Format(PyExc_KeyError, "node %d is no gate, basic event or house event", (int)x);
                    goto cleanup;
                }
                if (l >= 0) {
                    r = mk(m, (uint32_t)l, E_TRUE, E_FALSE);
                    if (r == NO_EDGE) {
                        stack[sp++] = 2 * x; /* the step to redo (its open marks are cleared below) */
                        goto failed;
                    }
                    PyObject *lst = PyList_GetItem(leaves, pos);
                    PyObject *id = lst ? PyLong_FromLong(x) : NULL;
                    if (!id || !PyList_Check(lst) || PyList_Append(lst, id) < 0) {
                        Py_XDECREF(id);
                        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "leaves must hold lists");
                        goto cleanup;
                    }
                    Py_DECREF(id);
                } else {
                    r = l == -2 ? E_TRUE : E_FALSE;
                }
                val[x] = r;
                stamp[x] = donemark;
                continue;
            }
            int32_t a = off[x], b = off[x + 1];
            if (!expanded) {
                if (stamp[x] == openmark) {
                    PyErr_SetString(PyExc_ValueError, "build_modules: the gates form a cycle");
                    goto cleanup;
                }
                stamp[x] = openmark;
                size_t need = sp + 1 + (size_t)(b - a);
                if (need > stcap) {
                    while (stcap < need) stcap *= 2;
                    int32_t *ns = (int32_t *)realloc(stack, stcap * sizeof(int32_t));
                    if (!ns) {
                        PyErr_NoMemory();
                        goto cleanup;
                    }
                    stack = ns;
                }
                stack[sp++] = 2 * x + 1;
                for (int32_t i = b - 1; i >= a; i--)
                    if (stamp[in[i]] != donemark) stack[sp++] = 2 * in[i];
                continue;
            }
            int32_t cnt = b - a;
            for (int32_t i = 0; i < cnt; i++) {
                sorted[i].key = tv[in[a + i]];
                sorted[i].pos = i;
                sorted[i].edge = val[in[a + i]];
            }
            qsort(sorted, (size_t)cnt, sizeof(SortIn), sortin_cmp);
            int32_t k = kind[x];
            r = E_TRUE;
            switch (k) {
            case K_AND:
            case K_NAND:
                for (int32_t i = 0; i < cnt && r != NO_EDGE; i++) r = bdd_and(m, r, sorted[i].edge);
                if (k == K_NAND && r != NO_EDGE) r ^= 1;
                break;
            case K_OR:
            case K_NOR:
                r = E_FALSE;
                for (int32_t i = 0; i < cnt && r != NO_EDGE; i++) r = bdd_or(m, r, sorted[i].edge);
                if (k == K_NOR && r != NO_EDGE) r ^= 1;
                break;
            case K_XOR: /* n-ary XOR is odd parity (the chained binary XOR) */
                r = E_FALSE;
                for (int32_t i = 0; i < cnt && r != NO_EDGE; i++) r = bdd_xor(m, r, sorted[i].edge);
                break;
            case K_NOT:
                r = sorted[0].edge ^ 1;
                break;
            case K_NULL:
                r = sorted[0].edge;
                break;
            default: /* K_ATLEAST */
                for (int32_t i = 0; i < cnt; i++) edges[i] = sorted[i].edge;
                r = bdd_atleast(m, kk[x], edges, cnt);
                break;
            }
            if (r == NO_EDGE) {
                stack[sp++] = 2 * x + 1;
                goto failed;
            }
            val[x] = r;
            /* A module's top keeps its variable's level: its parents see it as that variable. */
            if (x != top) tv[x] = cnt ? sorted[cnt - 1].key : (int32_t)m->nvars;
            stamp[x] = donemark;
        }
        uint32_t r = val[top];
        result[pos] = r;
        if (top != treetop && r <= E_FALSE) lv[top] = r == E_TRUE ? -2 : -3; /* a constant for its parents */
    }
    ret = Py_None;
    Py_INCREF(ret);
    goto done;
failed:
    raise_err(m);
cleanup:
    /* Gates left open by the interrupted walk are closed, so that the next call, which walks the module again
     * from its top, does not take them for a cycle; finished gates keep their values. */
    for (size_t i = 0; i < sp; i++)
        if (stamp[stack[i] >> 1] == 2 * state[0] + 1) stamp[stack[i] >> 1] = -1;
done:
    free(sorted);
    free(edges);
    free(stack);
    for (size_t i = 0; i < 6; i++)
        if (views[i]->obj) PyBuffer_Release(views[i]);
    for (size_t i = 0; i < 5; i++) int_arg_free(ints[i]);
    return ret;
}

/* gate_post_order(kinds, offsets, inputs, top) -> array('i'): the gates under top (kinds[x] >= 0), each after
 * its inputs, in the order of tree.post_order (iterative: chains of 100,000 gates do not recurse). */
static PyObject *py_gate_post_order(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "gate_post_order() takes exactly 4 arguments (%zd given)", nargs);
        return NULL;
    }
    IntArg kinds, offs, ins;
    kinds.copy = offs.copy = ins.copy = NULL;
    kinds.view.obj = offs.view.obj = ins.view.obj = NULL;
    PyObject *ret = NULL;
    int32_t *stack = NULL, *out = NULL;
    uint8_t *seen = NULL;
    long long top;
    if (int_arg(args[0], "kinds", &kinds) < 0 || int_arg(args[1], "offsets", &offs) < 0 ||
        int_arg(args[2], "inputs", &ins) < 0 || get_int(args[3], "top", 0, LLONG_MAX, &top) < 0)
        goto done;
    Py_ssize_t n = kinds.n;
    const int32_t *kind = kinds.items, *off = offs.items, *in = ins.items;
    if (offs.n != n + 1 || off[0] != 0 || off[n] != ins.n || top >= n) {
        PyErr_SetString(PyExc_ValueError, "gate_post_order: inconsistent array sizes");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (off[i + 1] < off[i]) {
            PyErr_SetString(PyExc_ValueError, "gate_post_order: offsets must not decrease");
            goto done;
        }
    for (Py_ssize_t i = 0; i < ins.n; i++)
        if (in[i] < 0 || in[i] >= n) {
            PyErr_SetString(PyExc_ValueError, "gate_post_order: input out of range");
            goto done;
        }
    /* Every gate is pushed once unexpanded per input that names it before it is seen, and once expanded. */
    size_t stcap = (size_t)ins.n + (size_t)n + 1, sp = 0, cnt = 0;
    stack = (int32_t *)malloc(stcap * sizeof(int32_t));
    out = (int32_t *)malloc(((size_t)n + 1) * sizeof(int32_t));
    seen = (uint8_t *)calloc((size_t)n + 1, 1);
    if (!stack || !out || !seen) {
        PyErr_NoMemory();
        goto done;
    }
    stack[sp++] = (int32_t)(2 * top);
    while (sp) {
        int32_t e = stack[--sp], x = e >> 1;
        if (e & 1) {
            out[cnt++] = x;
            continue;
        }
        if (seen[x] || kind[x] < 0) continue;
        seen[x] = 1;
        stack[sp++] = 2 * x + 1;
        for (int32_t i = off[x + 1] - 1; i >= off[x]; i--) {
            int32_t c = in[i];
            if (kind[c] >= 0 && !seen[c]) stack[sp++] = 2 * c;
        }
    }
    ret = array_from("i", out, cnt * sizeof(int32_t));
done:
    free(stack);
    free(out);
    free(seen);
    int_arg_free(&kinds);
    int_arg_free(&offs);
    int_arg_free(&ins);
    return ret;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Modules and the first variable order over flat gate arrays (modules.find_modules, bdd._separate and       */
/* modules.first_order on bdd._FlatTree: the same results, without a Python step per gate). Leaves have      */
/* kind -1 (basic event), -2 (house event) or -3 (a name that is neither).                                   */

typedef struct {
    IntArg kinds, offs, ins;
    Py_ssize_t n;
    int32_t top;
} FlatArgs;

static void flat_args_free(FlatArgs *f) {
    int_arg_free(&f->kinds);
    int_arg_free(&f->offs);
    int_arg_free(&f->ins);
}

/* kinds, offsets, inputs and top read and checked (top must be a gate); -1 with an exception set. */
static int flat_args(PyObject *const *args, FlatArgs *f) {
    f->kinds.copy = f->offs.copy = f->ins.copy = NULL;
    f->kinds.view.obj = f->offs.view.obj = f->ins.view.obj = NULL;
    long long top;
    if (int_arg(args[0], "kinds", &f->kinds) < 0 || int_arg(args[1], "offsets", &f->offs) < 0 ||
        int_arg(args[2], "inputs", &f->ins) < 0 || get_int(args[3], "top", 0, LLONG_MAX, &top) < 0)
        return -1;
    Py_ssize_t n = f->kinds.n;
    const int32_t *kind = f->kinds.items, *off = f->offs.items, *in = f->ins.items;
    if (f->offs.n != n + 1 || off[0] != 0 || off[n] != f->ins.n || top >= n || kind[top] < 0) {
        PyErr_SetString(PyExc_ValueError, "flat tree: inconsistent arrays or a top that is no gate");
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (off[i + 1] < off[i] || kind[i] < -3 || kind[i] > K_LAST || (kind[i] < 0 && off[i + 1] != off[i])) {
            PyErr_Format(PyExc_ValueError, "flat tree: bad node %zd", i);
            return -1;
        }
    for (Py_ssize_t i = 0; i < f->ins.n; i++)
        if (in[i] < 0 || in[i] >= n) {
            PyErr_SetString(PyExc_ValueError, "flat tree: input out of range");
            return -1;
        }
    f->n = n;
    f->top = (int32_t)top;
    return 0;
}

/* A flag array('b') of n items; NULL with an exception set. */
static PyObject *flag_array(const int8_t *flags, Py_ssize_t n) { return array_from("b", flags, (size_t)n); }

/* A flag argument: an array('b') (or any buffer of bytes) of at least n items, read in place. */
static int flag_arg(PyObject *obj, Py_ssize_t n, const char *what, Py_buffer *view) {
    view->obj = NULL;
    if (PyObject_GetBuffer(obj, view, PyBUF_C_CONTIGUOUS) < 0) return -1;
    if (view->itemsize != 1) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_TypeError, "%s must be a buffer of bytes (array('b'))", what);
        return -1;
    }
    if (view->len < n) {
        PyBuffer_Release(view);
        PyErr_Format(PyExc_ValueError, "%s holds fewer than %zd flags", what, n);
        return -1;
    }
    return 0;
}

/* flat_find_modules(kinds, offsets, inputs, top) -> array('b'): 1 for the gates whose sub-DAG is entered only
 * through them, and the top (Dutuit & Rauzy's visit times, as modules.find_modules counts them). */
static PyObject *py_flat_find_modules(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "flat_find_modules() takes exactly 4 arguments (%zd given)", nargs);
        return NULL;
    }
    FlatArgs f;
    PyObject *ret = NULL;
    int64_t *first = NULL, *last = NULL, *exit_ = NULL, *low = NULL, *high = NULL;
    int32_t *stack = NULL, *pos = NULL, *exits = NULL;
    int8_t *mod = NULL;
    if (flat_args(args, &f) < 0) goto done;
    Py_ssize_t n = f.n;
    const int32_t *kind = f.kinds.items, *off = f.offs.items, *in = f.ins.items;
    size_t sz = (size_t)n + 1;
    first = (int64_t *)calloc(sz, sizeof(int64_t)); /* 0: not visited */
    last = (int64_t *)calloc(sz, sizeof(int64_t));
    exit_ = (int64_t *)calloc(sz, sizeof(int64_t));
    low = (int64_t *)malloc(sz * sizeof(int64_t));
    high = (int64_t *)malloc(sz * sizeof(int64_t));
    stack = (int32_t *)malloc(sz * sizeof(int32_t)); /* a gate is on the stack at most once */
    pos = (int32_t *)malloc(sz * sizeof(int32_t));
    exits = (int32_t *)malloc(sz * sizeof(int32_t));
    mod = (int8_t *)calloc(sz, 1);
    if (!first || !last || !exit_ || !low || !high || !stack || !pos || !exits || !mod) {
        PyErr_NoMemory();
        goto done;
    }
    int64_t clock = 1;
    size_t sp = 0, nexit = 0;
    first[f.top] = last[f.top] = 1;
    stack[sp] = f.top;
    pos[sp++] = off[f.top];
    while (sp) {
        int32_t x = stack[sp - 1];
        int pushed = 0;
        while (pos[sp - 1] < off[x + 1]) {
            int32_t c = in[pos[sp - 1]++];
            clock++;
            if (first[c]) {
                last[c] = clock;
            } else if (kind[c] >= 0) {
                first[c] = last[c] = clock;
                stack[sp] = c;
                pos[sp++] = off[c];
                pushed = 1;
                break;
            } else if (kind[c] == -1) {
                first[c] = last[c] = clock;
            } else {
                clock--; /* house events are not visited */
            }
        }
        if (pushed) continue;
        sp--;
        exit_[x] = ++clock;
        exits[nexit++] = x;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        low[i] = first[i];
        high[i] = last[i];
    }
    for (size_t e = 0; e < nexit; e++) {
        int32_t x = exits[e];
        int64_t lo = INT64_MAX, hi = -1;
        for (int32_t i = off[x]; i < off[x + 1]; i++) {
            int32_t c = in[i];
            if (!first[c]) continue; /* a house event */
            if (low[c] < lo) lo = low[c];
            if (high[c] > hi) hi = high[c];
        }
        if (hi < 0 || (first[x] < lo && hi < exit_[x])) mod[x] = 1;
        if (lo < low[x]) low[x] = lo;
        if (hi > high[x]) high[x] = hi;
    }
    mod[f.top] = 1;
    ret = flag_array(mod, n);
done:
    free(first);
    free(last);
    free(exit_);
    free(low);
    free(high);
    free(stack);
    free(pos);
    free(exits);
    free(mod);
    flat_args_free(&f);
    return ret;
}

/* flat_separate(kinds, offsets, inputs, top, modules, thin) -> array('b'): the modules that get a BDD of
 * their own (bdd._separate): all but those over one child module and at most `thin` basic events. */
static PyObject *py_flat_separate(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_Format(PyExc_TypeError, "flat_separate() takes exactly 6 arguments (%zd given)", nargs);
        return NULL;
    }
    FlatArgs f;
    Py_buffer mv;
    mv.obj = NULL;
    PyObject *ret = NULL;
    int8_t *keep = NULL;
    long long thin;
    if (flat_args(args, &f) < 0 || flag_arg(args[4], f.n, "modules", &mv) < 0 ||
        get_int(args[5], "thin", 0, LLONG_MAX, &thin) < 0)
        goto done;
    const int32_t *kind = f.kinds.items, *off = f.offs.items, *in = f.ins.items;
    const int8_t *mod = (const int8_t *)mv.buf;
    keep = (int8_t *)calloc((size_t)f.n + 1, 1);
    if (!keep) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t x = 0; x < f.n; x++) {
        if (!mod[x]) continue;
        if (x != f.top && kind[x] >= 0) {
            int32_t inner = -1, count = 0;
            for (int32_t i = off[x]; i < off[x + 1]; i++)
                if (kind[in[i]] >= 0) {
                    inner = in[i];
                    count++;
                }
            if (count == 1 && mod[inner] && (long long)(off[x + 1] - off[x]) - 1 <= thin) {
                int events_only = 1;
                for (int32_t i = off[x]; i < off[x + 1]; i++)
                    if (in[i] != inner && kind[in[i]] != -1) events_only = 0;
                if (events_only) continue;
            }
        }
        keep[x] = 1;
    }
    ret = flag_array(keep, f.n);
done:
    free(keep);
    if (mv.obj) PyBuffer_Release(&mv);
    flat_args_free(&f);
    return ret;
}

/* flat_first_order(kinds, offsets, inputs, top, modules, late) -> array('i'): modules.first_order's
 * depth-first order of first appearance (basic events and the modules but the top, which stand as
 * placeholders), a gate's `late` inputs visited after its others. */
static PyObject *py_flat_first_order(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 6) {
        PyErr_Format(PyExc_TypeError, "flat_first_order() takes exactly 6 arguments (%zd given)", nargs);
        return NULL;
    }
    FlatArgs f;
    Py_buffer mv, lv;
    mv.obj = lv.obj = NULL;
    PyObject *ret = NULL;
    int32_t *stack = NULL, *order = NULL;
    uint8_t *seen = NULL;
    if (flat_args(args, &f) < 0 || flag_arg(args[4], f.n, "modules", &mv) < 0 ||
        flag_arg(args[5], f.n, "late", &lv) < 0)
        goto done;
    const int32_t *kind = f.kinds.items, *off = f.offs.items, *in = f.ins.items;
    const int8_t *mod = (const int8_t *)mv.buf, *late = (const int8_t *)lv.buf;
    /* A gate pushes its inputs once, when first popped: at most every input plus the top on the stack. */
    stack = (int32_t *)malloc(((size_t)f.ins.n + 1) * sizeof(int32_t));
    order = (int32_t *)malloc(((size_t)f.n + 1) * sizeof(int32_t));
    seen = (uint8_t *)calloc((size_t)f.n + 1, 1);
    if (!stack || !order || !seen) {
        PyErr_NoMemory();
        goto done;
    }
    size_t sp = 0, cnt = 0;
    stack[sp++] = f.top;
    while (sp) {
        int32_t x = stack[--sp];
        if (seen[x]) continue;
        seen[x] = 1;
        if (kind[x] == -1 || (kind[x] >= 0 && mod[x] && x != f.top)) order[cnt++] = x;
        if (kind[x] < 0) continue;
        /* Popped in the order (inputs not late, as written), then (late inputs, as written). */
        for (int32_t i = off[x + 1] - 1; i >= off[x]; i--)
            if (late[in[i]]) stack[sp++] = in[i];
        for (int32_t i = off[x + 1] - 1; i >= off[x]; i--)
            if (!late[in[i]]) stack[sp++] = in[i];
    }
    ret = array_from("i", order, cnt * sizeof(int32_t));
done:
    free(stack);
    free(order);
    free(seen);
    if (mv.obj) PyBuffer_Release(&mv);
    if (lv.obj) PyBuffer_Release(&lv);
    flat_args_free(&f);
    return ret;
}

/* ------------------------------------------------------------------------------------------------------ */
/* Phase 1 of the preprocessor (preprocess._from_tree and _Graph.make) over flat gate arrays: the same       */
/* hash-consed graph, built without a Python step per gate.                                                   */

enum { P_AND = 0, P_OR = 1, P_ATLEAST = 2, P_XOR = 3 };
#define P_TRUE 0
#define P_FALSE 1

typedef struct {
    PyObject *kind, *k, *inputs, *table; /* the _Graph's lists and dict */
    long long first;                     /* node number of the first gate */
    uint32_t *mark;                      /* per literal: generation of the last call that saw it */
    int32_t *count;                      /* per literal: k-of-n counts, XOR parities (0 between calls) */
    uint32_t gen;
    int32_t *buf, *order;                /* scratch: kept literals, XOR bases in first-seen order */
    size_t nlits;                        /* literals the scratch arrays cover */
} GraphBuilder;

static int lit_cmp(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The literal of kind(lits[0..n]) as _Graph.make gives it; lits may be overwritten. -1 with an exception. */
static long long graph_make(GraphBuilder *g, int kind, long long k, int32_t *lits, Py_ssize_t n) {
    long long neg = 0;
    int32_t *kept = g->buf;
    Py_ssize_t nk = 0;
    if (kind == P_AND || kind == P_OR) {
        int32_t absorbing = kind == P_OR ? P_TRUE : P_FALSE;
        uint32_t gen = ++g->gen;
        for (Py_ssize_t i = 0; i < n; i++) {
            int32_t x = lits[i];
            if (x == absorbing) return absorbing;
            if (x == (absorbing ^ 1) || g->mark[x] == gen) continue;
            if (g->mark[x ^ 1] == gen) return absorbing;
            g->mark[x] = gen;
            kept[nk++] = x;
        }
        if (nk == 0) return absorbing ^ 1;
        if (nk == 1) return kept[0];
        k = 0;
    } else if (kind == P_ATLEAST) {
        for (Py_ssize_t i = 0; i < n; i++) {
            if (lits[i] == P_TRUE)
                k--;
            else if (lits[i] != P_FALSE)
                g->count[lits[i]]++;
        }
        for (Py_ssize_t i = 0; i < n; i++) { /* a pair x, NOT x holds exactly one true input */
            int32_t x = lits[i];
            if (x <= P_FALSE) continue;
            int32_t c = g->count[x], d = g->count[x ^ 1];
            if (c && d) {
                int32_t pairs = c < d ? c : d;
                k -= pairs;
                g->count[x] = c - pairs;
                g->count[x ^ 1] = d - pairs;
            }
            if (g->count[x]) {
                g->count[x]--;
                kept[nk++] = x;
            }
        }
        for (Py_ssize_t i = 0; i < n; i++) /* leave the counts at 0 for the next call */
            if (lits[i] > P_FALSE) g->count[lits[i]] = g->count[lits[i] ^ 1] = 0;
        if (k <= 0) return P_TRUE;
        if (k > nk) return P_FALSE;
        if (k == 1 || k == nk) {
            memcpy(lits, kept, (size_t)nk * sizeof(int32_t)); /* kept is the scratch the call reuses */
            return graph_make(g, k == 1 ? P_OR : P_AND, 0, lits, nk);
        }
    } else { /* XOR: odd parity */
        Py_ssize_t nb = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            int32_t base = lits[i] & ~1;
            neg ^= lits[i] & 1;
            if (g->count[base] == 0) {
                g->order[nb++] = base;
                g->count[base] = 2; /* 2: seen, even; 3: seen, odd */
            }
            g->count[base] ^= 1;
        }
        for (Py_ssize_t i = 0; i < nb; i++) {
            int32_t base = g->order[i];
            int odd = g->count[base] & 1;
            g->count[base] = 0;
            if (base == 0) { /* TRUE (node 0) flips the result: its literal counts once per occurrence */
                if (odd) neg ^= 1;
            } else if (odd) {
                kept[nk++] = base;
            }
        }
        if (nk == 0) return P_FALSE ^ neg;
        if (nk == 1) return kept[0] ^ neg;
        k = 0;
    }
    /* (kind, k, sorted inputs) -> literal: an equal gate is found, not made again */
    PyObject *sorted_t = PyTuple_New(nk), *inputs = PyList_New(nk);
    if (!sorted_t || !inputs) goto fail_objs;
    memcpy(lits, kept, (size_t)nk * sizeof(int32_t));
    qsort(lits, (size_t)nk, sizeof(int32_t), lit_cmp);
    for (Py_ssize_t i = 0; i < nk; i++) {
        PyObject *a = PyLong_FromLong(lits[i]), *b = PyLong_FromLong(kept[i]);
        if (!a || !b) {
            Py_XDECREF(a);
            Py_XDECREF(b);
            goto fail_objs;
        }
        PyTuple_SET_ITEM(sorted_t, i, a);
        PyList_SET_ITEM(inputs, i, b);
    }
    PyObject *key = Py_BuildValue("(iLN)", kind, k, sorted_t);
    sorted_t = NULL; /* stolen by the key (or freed with it on failure) */
    if (!key) goto fail_objs;
    PyObject *found = PyDict_GetItemWithError(g->table, key);
    long long lit;
    if (found) {
        lit = PyLong_AsLongLong(found);
        Py_DECREF(key);
        Py_DECREF(inputs);
        if (lit == -1 && PyErr_Occurred()) return -1;
        return lit ^ neg;
    }
    if (PyErr_Occurred()) {
        Py_DECREF(key);
        goto fail_objs;
    }
    lit = 2 * (g->first + PyList_GET_SIZE(g->kind));
    if ((size_t)lit + 1 >= g->nlits) {
        Py_DECREF(key);
        PyErr_SetString(PyExc_RuntimeError, "graph_from_flat: more gates than the tree has");
        goto fail_objs;
    }
    PyObject *okind = PyLong_FromLong(kind), *ok = PyLong_FromLongLong(k), *olit = PyLong_FromLongLong(lit);
    int bad = !okind || !ok || !olit || PyList_Append(g->kind, okind) < 0 || PyList_Append(g->k, ok) < 0 ||
              PyList_Append(g->inputs, inputs) < 0 || PyDict_SetItem(g->table, key, olit) < 0;
    Py_XDECREF(okind);
    Py_XDECREF(ok);
    Py_XDECREF(olit);
    Py_DECREF(key);
    Py_DECREF(inputs);
    if (bad) return -1;
    return lit ^ neg;
fail_objs:
    Py_XDECREF(sorted_t);
    Py_XDECREF(inputs);
    return -1;
}

/* graph_from_flat(kinds, ks, offsets, inputs, top, leaflit, first) -> (kind, k, inputs, table, top literal):
 * preprocess._from_tree's graph. leaflit: a leaf's literal (basic events 2 * (rank + 1), house events TRUE 0
 * / FALSE 1), -1 for gates (and for names that are no node: KeyError if the walk reaches one). */
static PyObject *py_graph_from_flat(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 7) {
        PyErr_Format(PyExc_TypeError, "graph_from_flat() takes exactly 7 arguments (%zd given)", nargs);
        return NULL;
    }
    FlatArgs f;
    IntArg ks, leaf;
    ks.copy = leaf.copy = NULL;
    ks.view.obj = leaf.view.obj = NULL;
    GraphBuilder g;
    memset(&g, 0, sizeof g);
    PyObject *ret = NULL;
    int32_t *lit = NULL, *post = NULL, *stack = NULL, *args_ = NULL;
    uint8_t *seen = NULL;
    long long first;
    PyObject *fargs[4] = {args[0], args[2], args[3], args[4]};
    if (flat_args(fargs, &f) < 0 || int_arg(args[1], "ks", &ks) < 0 || int_arg(args[5], "leaflit", &leaf) < 0 ||
        get_int(args[6], "first", 1, INT32_MAX / 4, &first) < 0)
        goto done;
    Py_ssize_t n = f.n;
    const int32_t *kind = f.kinds.items, *off = f.offs.items, *in = f.ins.items;
    if (ks.n < n || leaf.n < n) {
        PyErr_SetString(PyExc_ValueError, "graph_from_flat: inconsistent array sizes");
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++)
        if (leaf.items[i] < -1 || leaf.items[i] >= 2 * first ||
            ((kind[i] == K_NOT || kind[i] == K_NULL) && off[i + 1] == off[i])) {
            PyErr_Format(PyExc_ValueError, "graph_from_flat: bad node %zd", i);
            goto done;
        }
    size_t ngates = 0;
    Py_ssize_t widest = 1;
    for (Py_ssize_t i = 0; i < n; i++)
        if (kind[i] >= 0) {
            ngates++;
            if (off[i + 1] - off[i] > widest) widest = off[i + 1] - off[i];
        }
    g.first = first;
    g.nlits = 2 * ((size_t)first + ngates) + 2;
    g.mark = (uint32_t *)calloc(g.nlits, sizeof(uint32_t));
    g.count = (int32_t *)calloc(g.nlits, sizeof(int32_t));
    g.buf = (int32_t *)malloc((size_t)widest * sizeof(int32_t));
    g.order = (int32_t *)malloc((size_t)widest * sizeof(int32_t));
    lit = (int32_t *)malloc(((size_t)n + 1) * sizeof(int32_t));
    post = (int32_t *)malloc(((size_t)n + 1) * sizeof(int32_t));
    stack = (int32_t *)malloc(((size_t)f.ins.n + (size_t)n + 1) * sizeof(int32_t));
    args_ = (int32_t *)malloc((size_t)widest * sizeof(int32_t));
    seen = (uint8_t *)calloc((size_t)n + 1, 1);
    g.kind = PyList_New(0);
    g.k = PyList_New(0);
    g.inputs = PyList_New(0);
    g.table = PyDict_New();
    if (!g.mark || !g.count || !g.buf || !g.order || !lit || !post || !stack || !args_ || !seen) {
        PyErr_NoMemory();
        goto done;
    }
    if (!g.kind || !g.k || !g.inputs || !g.table) goto done;
    /* The gates in post-order from the top (the order of _from_tree's walk, so gates are numbered alike). */
    size_t sp = 0, cnt = 0;
    stack[sp++] = 2 * f.top;
    while (sp) {
        int32_t e = stack[--sp], x = e >> 1;
        if (e & 1) {
            post[cnt++] = x;
            continue;
        }
        if (seen[x] || kind[x] < 0) continue;
        seen[x] = 1;
        stack[sp++] = 2 * x + 1;
        for (int32_t i = off[x + 1] - 1; i >= off[x]; i--)
            if (kind[in[i]] >= 0 && !seen[in[i]]) stack[sp++] = 2 * in[i];
    }
    for (Py_ssize_t i = 0; i < n; i++) lit[i] = kind[i] < 0 ? leaf.items[i] : -1;
    for (size_t j = 0; j < cnt; j++) {
        int32_t x = post[j];
        Py_ssize_t na = off[x + 1] - off[x];
        for (Py_ssize_t i = 0; i < na; i++) {
            int32_t c = in[off[x] + i];
            if (lit[c] < 0) {
                PyErr_Format(PyExc_KeyError, "input %d of gate %d is no gate, basic event or house event", (int)c,
                             (int)x);
                goto done;
            }
            args_[i] = lit[c];
        }
        long long r;
        switch (kind[x]) {
        case K_NULL:
            r = args_[0];
            break;
        case K_NOT:
            r = args_[0] ^ 1;
            break;
        case K_NAND:
            r = graph_make(&g, P_AND, 0, args_, na);
            if (r >= 0) r ^= 1;
            break;
        case K_NOR:
            r = graph_make(&g, P_OR, 0, args_, na);
            if (r >= 0) r ^= 1;
            break;
        default: /* AND, OR, ATLEAST, XOR: the same codes */
            r = graph_make(&g, kind[x], kind[x] == K_ATLEAST ? ks.items[x] : 0, args_, na);
            break;
        }
        if (r < 0) goto done;
        lit[x] = (int32_t)r;
    }
    ret = Py_BuildValue("(OOOOi)", g.kind, g.k, g.inputs, g.table, lit[f.top]);
done:
    Py_XDECREF(g.kind);
    Py_XDECREF(g.k);
    Py_XDECREF(g.inputs);
    Py_XDECREF(g.table);
    free(g.mark);
    free(g.count);
    free(g.buf);
    free(g.order);
    free(lit);
    free(post);
    free(stack);
    free(args_);
    free(seen);
    int_arg_free(&ks);
    int_arg_free(&leaf);
    flat_args_free(&f);
    return ret;
}

/* ------------------------------------------------------------------------------------------------------ */
/* The preprocessed graph after phase 1 (preprocess._Graph: kind, k and inputs as lists, literals             */
/* 2 * node + complemented, gate x is node first + x): its post-order, the coalescing's scan, and the flat   */
/* arrays of the tree preprocess._to_tree writes back, made without writing the tree (bdd._FlatTree's).      */

typedef struct {
    Py_ssize_t n;          /* gates */
    long long first;       /* node number of gate 0 */
    int32_t *off, *in;     /* gate x's input literals: in[off[x]..off[x + 1]] */
    int32_t *kind, *k;     /* NULL unless read */
} GraphArrays;

static void graph_arrays_free(GraphArrays *g) {
    free(g->off);
    free(g->in);
    free(g->kind);
    free(g->k);
}

/* The ints of the list `obj` (at least n of them) into a new array of n; -1 with an exception. */
static int graph_ints(PyObject *obj, Py_ssize_t n, long long lo, long long hi, const char *what, int32_t **out) {
    PyObject *seq = PySequence_Fast(obj, what);
    if (!seq) return -1;
    *out = (int32_t *)malloc(((size_t)n + 1) * sizeof(int32_t));
    if (!*out) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *o = fast_item(seq, i, what);
        long long v;
        if (!o) goto fail;
        Py_INCREF(o);
        int rc = get_int(o, what, lo, hi, &v);
        Py_DECREF(o);
        if (rc < 0) goto fail;
        (*out)[i] = (int32_t)v;
    }
    Py_DECREF(seq);
    return 0;
fail:
    Py_DECREF(seq);
    free(*out);
    *out = NULL;
    return -1;
}

/* kind (may be NULL), k (may be NULL), inputs and first read into g; -1 with an exception set. Every input
 * literal must name a constant, an event or a gate of the graph. */
static int graph_arrays(PyObject *kind, PyObject *k, PyObject *inputs, PyObject *first, GraphArrays *g) {
    memset(g, 0, sizeof *g);
    PyObject *outer = NULL;
    if (get_int(first, "first", 1, INT32_MAX / 4, &g->first) < 0) return -1;
    outer = PySequence_Fast(inputs, "inputs");
    if (!outer) return -1;
    Py_ssize_t n = g->n = PySequence_Fast_GET_SIZE(outer);
    long long maxlit = 2 * (g->first + (long long)n) - 1;
    if (maxlit > INT32_MAX) {
        PyErr_SetString(PyExc_ValueError, "graph: too many nodes");
        goto fail;
    }
    size_t cap = (size_t)n + 16, used = 0;
    g->off = (int32_t *)malloc(((size_t)n + 1) * sizeof(int32_t));
    g->in = (int32_t *)malloc(cap * sizeof(int32_t));
    if (!g->off || !g->in) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t x = 0; x < n; x++) {
        PyObject *item = fast_item(outer, x, "inputs");
        if (!item) goto fail;
        PyObject *seq = PySequence_Fast(item, "inputs of a gate");
        if (!seq) goto fail;
        g->off[x] = (int32_t)used;
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
            PyObject *o = PySequence_Fast_GET_ITEM(seq, i);
            long long v;
            Py_INCREF(o);
            int rc = get_int(o, "input literal", 0, maxlit, &v);
            Py_DECREF(o);
            if (rc == 0 && used >= INT32_MAX) {
                PyErr_SetString(PyExc_ValueError, "graph: too many inputs");
                rc = -1;
            }
            if (rc == 0 && used == cap) {
                int32_t *grown = (int32_t *)realloc(g->in, 2 * cap * sizeof(int32_t));
                if (!grown) {
                    PyErr_NoMemory();
                    rc = -1;
                } else {
                    g->in = grown;
                    cap *= 2;
                }
            }
            if (rc < 0) {
                Py_DECREF(seq);
                goto fail;
            }
            g->in[used++] = (int32_t)v;
        }
        Py_DECREF(seq);
    }
    g->off[n] = (int32_t)used;
    Py_CLEAR(outer);
    if (kind && graph_ints(kind, n, P_AND, P_XOR, "kind", &g->kind) < 0) goto fail;
    if (k && graph_ints(k, n, 0, INT32_MAX, "k", &g->k) < 0) goto fail;
    return 0;
fail:
    Py_XDECREF(outer);
    graph_arrays_free(g);
    return -1;
}

/* The gates reachable from the top literal, each after its inputs (preprocess._post_order's order) into out
 * (room for g->n); their number, or -1 with an exception set. */
static Py_ssize_t graph_post(const GraphArrays *g, long long top, int32_t *out) {
    if (top < 0 || top > 2 * (g->first + (long long)g->n) - 1) {
        PyErr_SetString(PyExc_ValueError, "graph: top literal out of range");
        return -1;
    }
    if ((top >> 1) < g->first) return 0;
    int32_t *stack = (int32_t *)malloc(((size_t)g->off[g->n] + (size_t)g->n + 1) * sizeof(int32_t));
    uint8_t *seen = (uint8_t *)calloc((size_t)g->n + 1, 1);
    if (!stack || !seen) {
        free(stack);
        free(seen);
        PyErr_NoMemory();
        return -1;
    }
    size_t sp = 0;
    Py_ssize_t cnt = 0;
    stack[sp++] = (int32_t)(2 * ((top >> 1) - g->first));
    while (sp) {
        int32_t e = stack[--sp], x = e >> 1;
        if (e & 1) {
            out[cnt++] = x;
            continue;
        }
        if (seen[x]) continue;
        seen[x] = 1;
        stack[sp++] = 2 * x + 1;
        for (int32_t i = g->off[x + 1] - 1; i >= g->off[x]; i--) {
            long long c = (g->in[i] >> 1) - g->first;
            if (c >= 0 && !seen[c]) stack[sp++] = (int32_t)(2 * c);
        }
    }
    free(stack);
    free(seen);
    return cnt;
}

/* graph_post_order(inputs, first, top) -> array('i'): preprocess._post_order. */
static PyObject *py_graph_post_order(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 3) {
        PyErr_Format(PyExc_TypeError, "graph_post_order() takes exactly 3 arguments (%zd given)", nargs);
        return NULL;
    }
    GraphArrays g;
    long long top;
    PyObject *ret = NULL;
    int32_t *order = NULL;
    if (graph_arrays(NULL, NULL, args[0], args[1], &g) < 0) return NULL;
    if (get_int(args[2], "top", 0, LLONG_MAX, &top) < 0) goto done;
    order = (int32_t *)malloc(((size_t)g.n + 1) * sizeof(int32_t));
    if (!order) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t cnt = graph_post(&g, top, order);
    if (cnt >= 0) ret = array_from("i", order, (size_t)cnt * sizeof(int32_t));
done:
    free(order);
    graph_arrays_free(&g);
    return ret;
}

/* graph_coalesce_scan(kind, inputs, first, top) -> (order, users, absorbable): the post-order, the number
 * of uses of each gate by the gates in it (the top counted once more, so it is never absorbed; 0 for a gate
 * not reached) and whether some AND/OR gate has an input preprocess._coalesce would absorb. */
static PyObject *py_graph_coalesce_scan(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "graph_coalesce_scan() takes exactly 4 arguments (%zd given)", nargs);
        return NULL;
    }
    GraphArrays g;
    long long top;
    PyObject *ret = NULL, *order_a = NULL, *users_a = NULL;
    int32_t *order = NULL, *users = NULL;
    if (graph_arrays(args[0], NULL, args[1], args[2], &g) < 0) return NULL;
    if (get_int(args[3], "top", 0, LLONG_MAX, &top) < 0) goto done;
    order = (int32_t *)malloc(((size_t)g.n + 1) * sizeof(int32_t));
    users = (int32_t *)calloc((size_t)g.n + 1, sizeof(int32_t));
    if (!order || !users) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t cnt = graph_post(&g, top, order);
    if (cnt < 0) goto done;
    for (Py_ssize_t j = 0; j < cnt; j++)
        for (int32_t i = g.off[order[j]]; i < g.off[order[j] + 1]; i++) {
            long long c = (g.in[i] >> 1) - g.first;
            if (c >= 0) users[c]++;
        }
    if ((top >> 1) >= g.first) users[(top >> 1) - g.first]++;
    int found = 0;
    for (Py_ssize_t j = 0; j < cnt && !found; j++) {
        int32_t x = order[j], kind = g.kind[x];
        if (kind != P_AND && kind != P_OR) continue;
        for (int32_t i = g.off[x]; i < g.off[x + 1]; i++) {
            long long c = (g.in[i] >> 1) - g.first;
            /* De Morgan: a complemented child of the other kind is absorbed too */
            if (c >= 0 && users[c] == 1 && (g.kind[c] == P_AND || g.kind[c] == P_OR) &&
                (g.kind[c] == kind) == ((g.in[i] & 1) == 0)) {
                found = 1;
                break;
            }
        }
    }
    order_a = array_from("i", order, (size_t)cnt * sizeof(int32_t));
    users_a = order_a ? array_from("i", users, (size_t)g.n * sizeof(int32_t)) : NULL;
    if (users_a) ret = Py_BuildValue("(OON)", order_a, users_a, PyBool_FromLong(found));
done:
    Py_XDECREF(order_a);
    Py_XDECREF(users_a);
    free(order);
    free(users);
    graph_arrays_free(&g);
    return ret;
}

/* graph_to_flat(kind, k, inputs, first, top) -> (kinds, ks, offsets, inputs, top, ranks, leaves): the arrays
 * of bdd._FlatTree(preprocess._to_tree(tree, graph)), node for node, without the tree. The written-back
 * tree's gates, in its order: each reachable gate in post-order, preceded by a NOT gate for each complemented
 * input not met before; then, if the top literal is no uncomplemented gate, a NULL gate (with a NOT gate
 * before it for a complemented top). ranks[x] for gate x: the number in its name (post-order position, then
 * the NOT gates numbered on from len(order)), -1 for the gate named as the tree's top. leaves: each leaf's
 * node, in order of first use (an event, or 0: the constant house event of a constant top). */
static PyObject *py_graph_to_flat(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    if (nargs != 5) {
        PyErr_Format(PyExc_TypeError, "graph_to_flat() takes exactly 5 arguments (%zd given)", nargs);
        return NULL;
    }
    GraphArrays g;
    long long top;
    PyObject *ret = NULL, *objs[6] = {NULL, NULL, NULL, NULL, NULL, NULL};
    int32_t *order = NULL, *gid = NULL, *notid = NULL, *leafid = NULL, *fkind = NULL, *fk = NULL, *frank = NULL,
            *foff = NULL, *fref = NULL, *leaves = NULL;
    if (graph_arrays(args[0], args[1], args[2], args[3], &g) < 0) return NULL;
    if (get_int(args[4], "top", 0, LLONG_MAX, &top) < 0) goto done;
    size_t nodes = (size_t)g.first + (size_t)g.n, ins = (size_t)g.off[g.n];
    /* gates: the reachable ones, a NOT per complemented node at most, and the NULL top */
    size_t cap = (size_t)g.n + nodes + 2, rcap = ins + nodes + 2;
    order = (int32_t *)malloc(((size_t)g.n + 1) * sizeof(int32_t));
    gid = (int32_t *)malloc(((size_t)g.n + 1) * sizeof(int32_t));
    notid = (int32_t *)malloc(nodes * sizeof(int32_t));
    leafid = (int32_t *)malloc((size_t)g.first * sizeof(int32_t));
    fkind = (int32_t *)malloc((cap + (size_t)g.first) * sizeof(int32_t));
    fk = (int32_t *)calloc(cap + (size_t)g.first, sizeof(int32_t));
    frank = (int32_t *)malloc(cap * sizeof(int32_t));
    foff = (int32_t *)malloc((cap + (size_t)g.first + 1) * sizeof(int32_t));
    fref = (int32_t *)malloc(rcap * sizeof(int32_t));
    leaves = (int32_t *)malloc((size_t)g.first * sizeof(int32_t));
    if (!order || !gid || !notid || !leafid || !fkind || !fk || !frank || !foff || !fref || !leaves) {
        PyErr_NoMemory();
        goto done;
    }
    Py_ssize_t cnt = graph_post(&g, top, order);
    if (cnt < 0) goto done;
    for (Py_ssize_t x = 0; x < g.n; x++) gid[x] = -1;
    for (size_t v = 0; v < nodes; v++) notid[v] = -1;
    for (long long v = 0; v < g.first; v++) leafid[v] = -1;
    long long top_gate = (top & 1) == 0 && (top >> 1) >= g.first ? (top >> 1) - g.first : -1;
    int32_t nf = 0, nnots = 0;
    size_t ni = 0;
/* A node's reference while the gates are numbered: a gate's flat id, or -(node + 1) for a leaf. */
#define PLAIN_REF(node)                                                                                          \
    ((node) >= g.first ? gid[(node) - g.first] : (int32_t)(-(node) - 1))
#define ADD_NOT(node)                                                                                            \
    do {                                                                                                         \
        notid[node] = nf;                                                                                        \
        fkind[nf] = K_NOT;                                                                                       \
        frank[nf] = (int32_t)cnt + nnots++;                                                                      \
        foff[nf++] = (int32_t)ni;                                                                                \
        fref[ni++] = PLAIN_REF(node);                                                                            \
    } while (0)
    for (Py_ssize_t j = 0; j < cnt; j++) {
        int32_t x = order[j];
        for (int32_t i = g.off[x]; i < g.off[x + 1]; i++) {
            long long node = g.in[i] >> 1;
            if (node >= g.first && gid[node - g.first] < 0) { /* cannot happen in a post-order: a guard */
                PyErr_SetString(PyExc_ValueError, "graph_to_flat: an input after its gate");
                goto done;
            }
            if ((g.in[i] & 1) && notid[node] < 0) ADD_NOT(node);
        }
        gid[x] = nf;
        fkind[nf] = g.kind[x];
        fk[nf] = g.kind[x] == P_ATLEAST ? g.k[x] : 0;
        frank[nf] = x == top_gate ? -1 : (int32_t)j;
        foff[nf++] = (int32_t)ni;
        for (int32_t i = g.off[x]; i < g.off[x + 1]; i++) {
            long long node = g.in[i] >> 1;
            fref[ni++] = (g.in[i] & 1) ? notid[node] : PLAIN_REF(node);
        }
    }
    int32_t ftop;
    if (top_gate >= 0) {
        ftop = gid[top_gate];
    } else {
        int32_t inner;
        long long node = top >> 1;
        if (top <= P_FALSE) {
            inner = -1; /* the constant's house event: leaf node 0 */
        } else {
            if ((top & 1) && notid[node] < 0) ADD_NOT(node);
            inner = (top & 1) ? notid[node] : PLAIN_REF(node);
        }
        fkind[nf] = K_NULL;
        frank[nf] = -1;
        foff[nf++] = (int32_t)ni;
        fref[ni++] = inner;
        ftop = nf - 1;
    }
#undef ADD_NOT
#undef PLAIN_REF
    foff[nf] = (int32_t)ni;
    int32_t nleaf = 0;
    for (size_t i = 0; i < ni; i++) {
        if (fref[i] >= 0) continue;
        int32_t node = -fref[i] - 1;
        if (leafid[node] < 0) {
            leafid[node] = nf + nleaf;
            leaves[nleaf++] = node;
        }
        fref[i] = leafid[node];
    }
    for (int32_t i = 0; i < nleaf; i++) {
        fkind[nf + i] = leaves[i] == 0 ? -2 : -1; /* the constant is a house event, the rest basic events */
        foff[nf + 1 + i] = (int32_t)ni;
    }
    size_t total = (size_t)nf + (size_t)nleaf;
    objs[0] = array_from("i", fkind, total * sizeof(int32_t));
    objs[1] = objs[0] ? array_from("i", fk, total * sizeof(int32_t)) : NULL;
    objs[2] = objs[1] ? array_from("i", foff, (total + 1) * sizeof(int32_t)) : NULL;
    objs[3] = objs[2] ? array_from("i", fref, ni * sizeof(int32_t)) : NULL;
    objs[4] = objs[3] ? array_from("i", frank, (size_t)nf * sizeof(int32_t)) : NULL;
    objs[5] = objs[4] ? array_from("i", leaves, (size_t)nleaf * sizeof(int32_t)) : NULL;
    if (objs[5]) ret = Py_BuildValue("(OOOOiOO)", objs[0], objs[1], objs[2], objs[3], ftop, objs[4], objs[5]);
done:
    for (size_t i = 0; i < 6; i++) Py_XDECREF(objs[i]);
    free(order);
    free(gid);
    free(notid);
    free(leafid);
    free(fkind);
    free(fk);
    free(frank);
    free(foff);
    free(fref);
    free(leaves);
    graph_arrays_free(&g);
    return ret;
}

static PyMethodDef Manager_methods[] = {
    {"var", (PyCFunction)Manager_var, METH_O, "var(i) -> edge of the function x_i."},
    {"and_", (PyCFunction)(void (*)(void))Manager_and, METH_FASTCALL, "and_(f, g) -> edge of f AND g."},
    {"or_", (PyCFunction)(void (*)(void))Manager_or, METH_FASTCALL, "or_(f, g) -> edge of f OR g."},
    {"xor", (PyCFunction)(void (*)(void))Manager_xor, METH_FASTCALL, "xor(f, g) -> edge of f XOR g."},
    {"atleast", (PyCFunction)(void (*)(void))Manager_atleast, METH_FASTCALL,
     "atleast(k, edges) -> edge of 'at least k of edges are true'."},
    {"build_modules", (PyCFunction)(void (*)(void))Manager_build_modules, METH_FASTCALL,
     "build_modules(kinds, ks, offsets, inputs, leafval, topv, values, stamp, modules, results, leaves, state, "
     "top) -> None: the module BDDs of a flat tree (bdd._FlatTree); OverflowError at the node limit, resumable."},
    {"park", (PyCFunction)Manager_park, METH_NOARGS,
     "park() -> None: free the tables of a stopped build and pack its nodes (both undone by the next operation)."},
    {"size", (PyCFunction)Manager_size, METH_O, "size(f) -> number of nodes reachable from f, terminal included."},
    {"flatten", (PyCFunction)Manager_flatten, METH_O,
     "flatten(f) -> (level, high, low, root): the sub-DAG of f as three array('i') (bdd.FlatBdd layout)."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef Manager_getset[] = {
    {"nodes", (getter)Manager_get_nodes, NULL, "internal nodes allocated so far (never decreases)", NULL},
    {"node_limit", (getter)Manager_get_limit, (setter)Manager_set_limit,
     "max internal nodes (0: none); may be raised to resume after OverflowError", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject ManagerType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "safetyops_dsl.fta._bddk.Manager",
    .tp_basicsize = sizeof(Manager),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Manager(nvars, node_limit=0): a BDD manager with a fixed variable order (index == level).",
    .tp_new = Manager_new,
    .tp_dealloc = (destructor)Manager_dealloc,
    .tp_methods = Manager_methods,
    .tp_getset = Manager_getset,
};

/* ------------------------------------------------------------------------------------------------------ */
/* Probability passes over flat arrays (bdd.FlatBdd layout)                                               */

/* Checks shared by both passes: equal lengths, children are existing nodes numbered below their parent,
 * node levels index probs. `nvars` < 0: no bound on levels other than len(probs). */
static int check_flat(const int32_t *level, const int32_t *high, const int32_t *low, Py_ssize_t n,
                      Py_ssize_t nh, Py_ssize_t nl, Py_ssize_t nprobs, long long nvars) {
    if (nh != n || nl != n) {
        PyErr_Format(PyExc_ValueError, "level, high and low differ in length (%zd, %zd, %zd)", n, nh, nl);
        return -1;
    }
    long long bound = nprobs;
    if (nvars >= 0 && nvars < bound) bound = nvars;
    for (Py_ssize_t i = 1; i < n; i++) {
        if (level[i] < 0 || level[i] >= bound) {
            PyErr_Format(PyExc_ValueError, "level[%zd] = %d is not a variable index", i, (int)level[i]);
            return -1;
        }
        if (high[i] < 0 || (high[i] >> 1) >= i || low[i] < 0 || (low[i] >> 1) >= i) {
            PyErr_Format(PyExc_ValueError, "node %zd has a child that is not a node numbered below it", i);
            return -1;
        }
    }
    if (nvars >= 0 && n > 0 && (level[0] < 0 || level[0] > nvars)) {
        PyErr_Format(PyExc_ValueError, "level[0] = %d is not in 0..nvars", (int)level[0]);
        return -1;
    }
    return 0;
}

/* pos and neg (malloc'ed, n items each) as two array('d'); NULL on error. */
static PyObject *double_arrays(const double *pos, const double *neg, Py_ssize_t n) {
    PyObject *a = array_from("d", pos, (size_t)n * sizeof(double));
    PyObject *b = a ? array_from("d", neg, (size_t)n * sizeof(double)) : NULL;
    if (!b) {
        Py_XDECREF(a);
        return NULL;
    }
    return Py_BuildValue("(NN)", a, b);
}

static PyObject *py_node_probabilities(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 4) {
        PyErr_Format(PyExc_TypeError, "node_probabilities() takes exactly 4 arguments (%zd given)", nargs);
        return NULL;
    }
    /* Every argument is read (converting sequences may run Python code) before any is checked, and the
     * pass runs no Python code: arrays read in place cannot change between the checks and their use. */
    IntArg L = {0}, H = {0}, W = {0};
    FloatArg P = {0};
    double *pos = NULL, *neg = NULL;
    PyObject *res = NULL;
    if (int_arg(args[0], "level", &L) < 0 || int_arg(args[1], "high", &H) < 0 || int_arg(args[2], "low", &W) < 0 ||
        float_arg(args[3], "probs", &P) < 0)
        goto done;
    const int32_t *level = L.items, *high = H.items, *low = W.items;
    const double *probs = P.items;
    Py_ssize_t n = L.n;
    if (check_flat(level, high, low, n, H.n, W.n, P.n, -1) < 0) goto done;
    pos = (double *)malloc(((size_t)n + 1) * sizeof(double));
    neg = (double *)malloc(((size_t)n + 1) * sizeof(double));
    if (!pos || !neg) {
        PyErr_NoMemory();
        goto done;
    }
    if (n > 0) {
        pos[0] = 1.0;
        neg[0] = 0.0;
    }
    for (Py_ssize_t i = 1; i < n; i++) {
        double p = probs[level[i]];
        double q = 1.0 - p;
        long long h = high[i], lo = low[i];
        double ph, nh_, pl, nl_;
        if (h & 1) {
            ph = neg[h >> 1];
            nh_ = pos[h >> 1];
        } else {
            ph = pos[h >> 1];
            nh_ = neg[h >> 1];
        }
        if (lo & 1) {
            pl = neg[lo >> 1];
            nl_ = pos[lo >> 1];
        } else {
            pl = pos[lo >> 1];
            nl_ = neg[lo >> 1];
        }
        pos[i] = p * ph + q * pl;
        neg[i] = p * nh_ + q * nl_;
    }
    res = double_arrays(pos, neg, n);
done:
    int_arg_free(&L);
    int_arg_free(&H);
    int_arg_free(&W);
    float_arg_free(&P);
    free(pos);
    free(neg);
    return res;
}

/* Jump ranges [lo, hi) -> summed term, in first-seen order (the order of bdd.py's dict). */
typedef struct {
    uint32_t lo, hi;
    double val;
} Jump;

typedef struct {
    Jump *items;
    size_t count, cap;
    uint32_t *index; /* open addressing: item number + 1, 0 empty */
    size_t mask;
} JumpMap;

static inline size_t jhash(uint32_t lo, uint32_t hi, size_t mask) {
    return (size_t)((((uint64_t)lo << 32 | hi) * K1) >> 32) & mask;
}

/* The slot of range [lo, hi), created with value 0.0 if new; NULL on memory error. */
static Jump *jump_get(JumpMap *jm, uint32_t lo, uint32_t hi) {
    size_t h = jhash(lo, hi, jm->mask);
    for (;;) {
        uint32_t k = jm->index[h];
        if (!k) break;
        Jump *j = &jm->items[k - 1];
        if (j->lo == lo && j->hi == hi) return j;
        h = (h + 1) & jm->mask;
    }
    if (jm->count == jm->cap) {
        size_t ncap = jm->cap * 2;
        Jump *ni = (Jump *)realloc(jm->items, ncap * sizeof(Jump));
        if (!ni) return NULL;
        jm->items = ni;
        jm->cap = ncap;
    }
    if ((jm->count + 1) * 2 > jm->mask + 1) {
        size_t nsize = (jm->mask + 1) * 2;
        uint32_t *nidx = (uint32_t *)calloc(nsize, sizeof(uint32_t));
        if (!nidx) return NULL;
        free(jm->index);
        jm->index = nidx;
        jm->mask = nsize - 1;
        for (size_t i = 0; i < jm->count; i++) {
            size_t g = jhash(jm->items[i].lo, jm->items[i].hi, jm->mask);
            while (nidx[g]) g = (g + 1) & jm->mask;
            nidx[g] = (uint32_t)(i + 1);
        }
        h = jhash(lo, hi, jm->mask);
        while (nidx[h]) h = (h + 1) & jm->mask;
    }
    Jump *j = &jm->items[jm->count++];
    j->lo = lo;
    j->hi = hi;
    j->val = 0.0;
    jm->index[h] = (uint32_t)jm->count;
    return j;
}

static PyObject *py_conditional_probabilities(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    (void)self;
    if (nargs != 8) {
        PyErr_Format(PyExc_TypeError, "conditional_probabilities() takes exactly 8 arguments (%zd given)",
                     nargs);
        return NULL;
    }
    IntArg L = {0}, H = {0}, W = {0};
    FloatArg P = {0}, PP = {0}, NN = {0};
    double *reach0 = NULL, *reach1 = NULL, *at1 = NULL, *at0 = NULL, *seg = NULL;
    char *present = NULL;
    JumpMap jm = {NULL, 0, 0, NULL, 0};
    PyObject *res = NULL;
    long long root, nvars;
    if (get_int(args[3], "root", 0, LLONG_MAX, &root) < 0 || get_int(args[7], "nvars", 0, MAX_VARS, &nvars) < 0)
        return NULL;
    /* As in node_probabilities: read everything, then check, then a pass that runs no Python code. */
    if (int_arg(args[0], "level", &L) < 0 || int_arg(args[1], "high", &H) < 0 || int_arg(args[2], "low", &W) < 0 ||
        float_arg(args[4], "probs", &P) < 0 || float_arg(args[5], "pos", &PP) < 0 || float_arg(args[6], "neg", &NN) < 0)
        goto done;
    const int32_t *level = L.items, *high = H.items, *low = W.items;
    const double *probs = P.items, *pos = PP.items, *neg = NN.items;
    Py_ssize_t n = L.n;
    if (check_flat(level, high, low, n, H.n, W.n, P.n, nvars) < 0) goto done;
    if (PP.n != n || NN.n != n) {
        PyErr_SetString(PyExc_ValueError, "pos and neg must have one entry per node");
        goto done;
    }
    if (root >= 2 * (long long)n) {
        PyErr_Format(PyExc_ValueError, "root %lld does not point at a node", root);
        goto done;
    }
    size_t nv1 = (size_t)nvars + 1;
    reach0 = (double *)calloc((size_t)n, sizeof(double));
    reach1 = (double *)calloc((size_t)n, sizeof(double));
    at1 = (double *)calloc(nv1, sizeof(double));
    at0 = (double *)calloc(nv1, sizeof(double));
    present = (char *)calloc(nv1, 1);
    jm.cap = 1024;
    jm.items = (Jump *)malloc(jm.cap * sizeof(Jump));
    jm.mask = 4095;
    jm.index = (uint32_t *)calloc(jm.mask + 1, sizeof(uint32_t));
    if (!reach0 || !reach1 || !at1 || !at0 || !present || !jm.items || !jm.index) {
        PyErr_NoMemory();
        goto done;
    }
    size_t root_node = (size_t)(root >> 1);
    int root_pol = (int)(root & 1);
    (root_pol ? reach1 : reach0)[root_node] = 1.0;
    if (level[root_node] > 0) {
        Jump *j = jump_get(&jm, 0, (uint32_t)level[root_node]);
        if (!j) {
            PyErr_NoMemory();
            goto done;
        }
        j->val = root_pol ? neg[root_node] : pos[root_node];
    }
    for (Py_ssize_t i = n - 1; i > 0; i--) {
        long long v = level[i];
        present[v] = 1;
        double r0 = reach0[i], r1 = reach1[i];
        if (r0 == 0.0 && r1 == 0.0) continue;
        double p = probs[v];
        double q = 1.0 - p;
        long long h = high[i], lo = low[i];
        long long hn = h >> 1, ln = lo >> 1;
        double ph0, ph1, pl0, pl1;
        if (h & 1) {
            ph0 = neg[hn];
            ph1 = pos[hn];
        } else {
            ph0 = pos[hn];
            ph1 = neg[hn];
        }
        if (lo & 1) {
            pl0 = neg[ln];
            pl1 = pos[ln];
        } else {
            pl0 = pos[ln];
            pl1 = neg[ln];
        }
        double a1 = 0.0, a0 = 0.0;
        if (r0 != 0.0) {
            a1 += r0 * ph0;
            a0 += r0 * pl0;
            if (h & 1)
                reach1[hn] += r0 * p;
            else
                reach0[hn] += r0 * p;
            if (lo & 1)
                reach1[ln] += r0 * q;
            else
                reach0[ln] += r0 * q;
        }
        if (r1 != 0.0) {
            a1 += r1 * ph1;
            a0 += r1 * pl1;
            if (h & 1)
                reach0[hn] += r1 * p;
            else
                reach1[hn] += r1 * p;
            if (lo & 1)
                reach0[ln] += r1 * q;
            else
                reach1[ln] += r1 * q;
        }
        at1[v] += a1;
        at0[v] += a0;
        long long lh = level[hn];
        if (lh > v + 1) {
            Jump *j = jump_get(&jm, (uint32_t)(v + 1), (uint32_t)lh);
            if (!j) {
                PyErr_NoMemory();
                goto done;
            }
            j->val = j->val + p * a1;
        }
        long long ll = level[ln];
        if (ll > v + 1) {
            Jump *j = jump_get(&jm, (uint32_t)(v + 1), (uint32_t)ll);
            if (!j) {
                PyErr_NoMemory();
                goto done;
            }
            j->val = j->val + q * a0;
        }
    }
    size_t size = 1;
    while (size < (size_t)(nvars > 1 ? nvars : 1)) size *= 2;
    seg = (double *)calloc(2 * size, sizeof(double));
    if (!seg) {
        PyErr_NoMemory();
        goto done;
    }
    for (size_t k = 0; k < jm.count; k++) { /* add the value to levels lo..hi-1 */
        double value = jm.items[k].val;
        size_t lo_i = jm.items[k].lo + size, hi_i = jm.items[k].hi + size;
        while (lo_i < hi_i) {
            if (lo_i & 1) {
                seg[lo_i] += value;
                lo_i += 1;
            }
            if (hi_i & 1) {
                hi_i -= 1;
                seg[hi_i] += value;
            }
            lo_i >>= 1;
            hi_i >>= 1;
        }
    }
    res = PyDict_New();
    if (!res) goto done;
    for (long long v = 0; v < nvars; v++) {
        if (!present[v]) continue;
        size_t i = (size_t)v + size;
        double skip = 0.0;
        while (i >= 1) {
            skip += seg[i];
            i >>= 1;
        }
        double x1 = skip + at1[v], x0 = skip + at0[v];
        if (1.0 < x1) x1 = 1.0; /* Python's min(x, 1.0) */
        if (1.0 < x0) x0 = 1.0;
        PyObject *key = PyLong_FromLongLong(v);
        PyObject *val = key ? Py_BuildValue("(dd)", x1, x0) : NULL;
        int bad = !val || PyDict_SetItem(res, key, val) < 0;
        Py_XDECREF(key);
        Py_XDECREF(val);
        if (bad) {
            Py_CLEAR(res);
            goto done;
        }
    }
done:
    int_arg_free(&L);
    int_arg_free(&H);
    int_arg_free(&W);
    float_arg_free(&P);
    float_arg_free(&PP);
    float_arg_free(&NN);
    free(reach0);
    free(reach1);
    free(at1);
    free(at0);
    free(present);
    free(seg);
    free(jm.items);
    free(jm.index);
    return res;
}

static PyMethodDef module_methods[] = {
    {"node_probabilities", (PyCFunction)(void (*)(void))py_node_probabilities, METH_FASTCALL,
     "node_probabilities(level, high, low, probs) -> (pos, neg): P(node) and 1 - P(node) per node, as two "
     "array('d')."},
    {"conditional_probabilities", (PyCFunction)(void (*)(void))py_conditional_probabilities, METH_FASTCALL,
     "conditional_probabilities(level, high, low, root, probs, pos, neg, nvars) -> {v: (P(top | v=1), "
     "P(top | v=0))}."},
    {"gate_post_order", (PyCFunction)(void (*)(void))py_gate_post_order, METH_FASTCALL,
     "gate_post_order(kinds, offsets, inputs, top) -> array('i'): the gates under top, inputs first."},
    {"flat_find_modules", (PyCFunction)(void (*)(void))py_flat_find_modules, METH_FASTCALL,
     "flat_find_modules(kinds, offsets, inputs, top) -> array('b'): module flags (modules.find_modules)."},
    {"flat_separate", (PyCFunction)(void (*)(void))py_flat_separate, METH_FASTCALL,
     "flat_separate(kinds, offsets, inputs, top, modules, thin) -> array('b'): flags of the modules that get "
     "a BDD of their own (bdd._separate)."},
    {"flat_first_order", (PyCFunction)(void (*)(void))py_flat_first_order, METH_FASTCALL,
     "flat_first_order(kinds, offsets, inputs, top, modules, late) -> array('i'): modules.first_order."},
    {"graph_from_flat", (PyCFunction)(void (*)(void))py_graph_from_flat, METH_FASTCALL,
     "graph_from_flat(kinds, ks, offsets, inputs, top, leaflit, first) -> (kind, k, inputs, table, top): "
     "preprocess._from_tree's hash-consed graph."},
    {"graph_post_order", (PyCFunction)(void (*)(void))py_graph_post_order, METH_FASTCALL,
     "graph_post_order(inputs, first, top) -> array('i'): preprocess._post_order of a graph."},
    {"graph_coalesce_scan", (PyCFunction)(void (*)(void))py_graph_coalesce_scan, METH_FASTCALL,
     "graph_coalesce_scan(kind, inputs, first, top) -> (order, users, absorbable): preprocess._coalesce's scan."},
    {"graph_to_flat", (PyCFunction)(void (*)(void))py_graph_to_flat, METH_FASTCALL,
     "graph_to_flat(kind, k, inputs, first, top) -> (kinds, ks, offsets, inputs, top, ranks, leaves): "
     "bdd._FlatTree of the tree preprocess._to_tree writes back."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef bddk_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "safetyops_dsl.fta._bddk",
    .m_doc = "BDD package and probability passes of the fault-tree engine (C).",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__bddk(void) {
    if (PyType_Ready(&ManagerType) < 0) return NULL;
    if (!array_type) {
        PyObject *arraymod = PyImport_ImportModule("array");
        if (!arraymod) return NULL;
        array_type = PyObject_GetAttrString(arraymod, "array"); /* kept for the life of the process */
        Py_DECREF(arraymod);
        if (!array_type) return NULL;
    }
    PyObject *mod = PyModule_Create(&bddk_module);
    if (!mod) return NULL;
    Py_INCREF(&ManagerType);
    if (PyModule_AddObject(mod, "Manager", (PyObject *)&ManagerType) < 0) {
        Py_DECREF(&ManagerType);
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
