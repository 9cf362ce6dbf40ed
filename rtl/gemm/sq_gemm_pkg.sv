// Shared constants and types of the GEMM unit (sq_gemm_*). The command format
// and register map come from the generated sq_spec_pkg (include/sparq/spec.h).
package sq_gemm_pkg;
  // One AXI4 data beat: 64 bytes, one DDR4 channel's bytes per 300 MHz cycle.
  localparam int unsigned BeatBytes = 64;
  localparam int unsigned BeatW = 8 * BeatBytes;
  localparam int unsigned AddrW = 64;
  // Dimensions are at most SqGemmMaxDim = 65536, which needs 17 bits.
  localparam int unsigned DimW = 17;
  // K is consumed in chunks of KchElems elements; one chunk of R rows of A and
  // C rows of W is held on chip (in several buffer slots). With K <= KchElems an A
  // panel stays resident while every N tile streams past it.
  localparam int unsigned KchLog2 = 11;
  localparam int unsigned KchElems = 1 << KchLog2;
  localparam int unsigned RowWords = KchElems / BeatBytes;          // A and W rows
  localparam int unsigned MetaWords = KchElems / 8 / BeatBytes;     // 2:4 codes
  localparam int unsigned KchW = KchLog2 + 1;                       // 0..KchElems
  // A panels are double-buffered; W tiles get four slots so the loader can
  // run two tiles ahead and absorb the extra A load at an M panel change.
  localparam int unsigned WSlotW = 2;
  // GEMV mode (M = 1, int8, docs/gemm_rtl.md "GEMV"): the weight rows stream
  // through the A buffers in K chunks of KchG elements, so the A buffer's 2
  // slots become ASlotsG slots of GWords words and the loader runs up to four
  // jobs ahead; the activation vector is kept in W buffer 0 in XSubs chunks
  // (loaded once when K <= XSubs * KchG).
  localparam int unsigned KchGLog2 = 9;
  localparam int unsigned KchG = 1 << KchGLog2;
  localparam int unsigned GWords = KchG / BeatBytes;
  localparam int unsigned ASlotW = 3;                               // 8 slots of GWords
  localparam int unsigned XSubW = 4;                                // 16 chunks of GWords
  localparam int unsigned XSubs = 1 << XSubW;
  // int4 GEMV: a step takes 8 nibbles of a weight row, so a slot of GWords
  // words holds KchG4 = 2 * KchG weights and an activation chunk is 2 * GWords
  // words (two XSubs entries). 2:4 GEMV the same: a step takes the 4 kept
  // values of 8 K positions, so a slot holds the values of KchG4 positions
  // (and a W slot's code region their KchG4 / 8 code bytes).
  localparam int unsigned KchG4 = 2 * KchG;
  // 2:4 takes GEMV mode from this K on (sq_gemm_core; the cycle model's
  // GEMV_SP_KMIN)
  localparam int unsigned GemvSpKMin = 256;

  // Which on-chip store a fetched burst fills.
  // (Constants, not an enum type: yosys 0.23 cannot use package types in
  // module-local structs.)
  localparam logic [2:0] KindA = 3'd0;
  localparam logic [2:0] KindW = 3'd1;
  localparam logic [2:0] KindMeta = 3'd2;
  localparam logic [2:0] KindBias = 3'd3;
  localparam logic [2:0] KindQuant = 3'd4;
  localparam logic [2:0] KindMark = 3'd5;  // no data: all bursts of a job were issued before it

  // One decoded GEMM descriptor. Group scales (SqGemmGscale, gsc): a group
  // is 2^gshift K positions (gshift 17 when the group is all of K), ng
  // groups per output, factors at gscale.
  typedef struct packed {
    logic             gsc;
    logic [4:0]       gshift;
    logic [DimW:0]    ng;
    logic [AddrW-1:0] gscale;
    logic [4:0]       flags;
    logic [DimW-1:0]  m;
    logic [DimW-1:0]  n;
    logic [DimW-1:0]  k;
    logic [AddrW-1:0] a;
    logic [AddrW-1:0] w;
    logic [AddrW-1:0] meta;
    logic [AddrW-1:0] bias;
    logic [AddrW-1:0] quant;
    logic [AddrW-1:0] c;
  } gemm_cfg_t;

  // One unit of loader/feeder work: an R x C output tile over one K chunk.
  typedef struct packed {
    logic [ASlotW-1:0] aslot;   // A slot (GEMV: slot of GWords words)
    logic [WSlotW-1:0] wslot;
    logic [XSubW-1:0] xsub;     // GEMV: activation chunk in W buffer 0
    logic [DimW:0]   m0;
    logic [DimW:0]   n0;
    logic [DimW:0]   k0;        // K position of the chunk's first element
    logic [KchW-1:0] klen;      // K elements in this chunk
    logic            first;     // first chunk: accumulators start from 0
    logic            last;      // last chunk: the tile's results are final
    logic            rel_a;     // the A slot is free after this job
    logic            final_job; // last job of the GEMM
  } job_t;

  // Weight bus entering a PE column: 2 weights, 2:4 position code, control;
  // nib (int4 GEMV): the row path carries int4 weights, and the PE multiplies
  // w0 by the low nibble of byte code[1:0] and w1 by the high nibble of byte
  // code[3:2], each sign-extended; sv (2:4 GEMV): the row path carries the
  // kept values of two 2:4 groups and the row's g path their codes, and the
  // PE multiplies w0 and w1 (activations 2 code[1:0] and 2 code[1:0] + 1 of
  // the step's 8) by the row's kept value at that position, or 0. Group scales (sq_gemm_pe): gsc (the GEMM
  // has them), gend (the step closes a group), fin (add the left
  // neighbour's part), sc (this column scales), gs (the column's factor,
  // normal mapping). They sit above valid, so a bus built without them
  // (zero-extended) keeps its meaning.
  // WbusW is its width: flattened port arrays need it (yosys 0.23 has no
  // $bits of a package type), and so do unpacked arrays of it, which must be
  // declared as `logic [WbusW-1:0] x [N]` because yosys 0.23 silently drops the
  // unpacked dimension of an array of a packed struct type (`wbus_t x [N]` is
  // synthesized as one wbus_t). The same holds for tile_t and TileW.
  localparam int unsigned WbusW = 45;
  typedef struct packed {
    logic       sv;
    logic [15:0] gs;
    logic       gsc;
    logic       gend;
    logic       fin;
    logic       sc;
    logic       valid;
    logic       first;
    logic       last;
    logic       nib;
    logic [3:0] code;   // [1:0] position of w0, [3:2] position of w1
    logic [7:0] w1;
    logic [7:0] w0;
  } wbus_t;

  // Output tile identity carried with drained results.
  localparam int unsigned TileW = 3 * (DimW + 1);
  typedef struct packed {
    logic [DimW:0] m0;
    logic [DimW:0] n0;
    logic [DimW:0] ncols;
  } tile_t;
endpackage
