"""Call quality estimate: the ITU-T G.107 E-model and its MOS (pure).

Clause numbers are those of ITU-T G.107 (06/2015); the 2011 edition has the
same numbering, editions up to 2009 number the same text 3.x.

7.1  R = Ro - Is - Id - Ie,eff + A

7.2  Ro = 15 - 1.5 (SLR + No), the basic signal-to-noise ratio, with
     No  = 10 log10(10^(Nc/10) + 10^(Nos/10) + 10^(Nor/10) + 10^(Nfo/10))
     Nos = Ps - SLR - Ds - 100 + 0.004 (Ps - OLR - Ds - 14)^2
     Nor = RLR - 121 + Pre + 0.008 (Pre - 35)^2
     Pre = Pr + 10 log10(1 + 10^((10 - LSTR)/10)),  Nfo = Nfor + RLR,
     OLR = SLR + RLR.

7.3  Is = Iolr + Ist + Iq, the simultaneous impairments:
     Iolr  = 20 [(1 + (Xolr/8)^8)^(1/8) - Xolr/8],  Xolr = OLR + 0.2 (64 + No - RLR)
     Ist   = 12 [1 + ((STMRo - 13)/6)^8]^(1/8) - 28 [1 + ((STMRo + 1)/19.4)^35]^(1/35)
             - 13 [1 + ((STMRo - 3)/33)^13]^(1/13) + 29
     STMRo = -10 log10(10^(-STMR/10) + e^(-T/4) 10^(-TELR/10))
     Iq    = 15 log10(1 + 10^Y + 10^Z),  Y = (Ro - 100)/15 + 46/8.4 - G/9,
             Z = 46/30 - G/40,  G = 1.07 + 0.258 Q + 0.0602 Q^2,  Q = 37 - 15 log10(qdu)

7.4  Id = Idte + Idle + Idd, the delay impairments:
     Idte = [(Roe - Re)/2 + sqrt((Roe - Re)^2/4 + 100) - 1] (1 - e^(-T))
            Roe = -1.5 (No - RLR),  Re = 80 + 2.5 (TERV - 14),
            TERV = TELR - 40 log10((1 + T/10)/(1 + T/150)) + 6 e^(-0.3 T^2)
            (TERV + Ist/2 replaces TERV when STMR < 9 dB; sqrt(Idte^2 + Ist^2)
            replaces Idte when STMR > 20 dB)
     Idle = (Ro - Rle)/2 + sqrt((Ro - Rle)^2/4 + 169),
            Rle = 10.5 (WEPL + 7) (Tr + 1)^(-1/4)
     Idd  = 0 for Ta <= mT, else with X = log10(Ta/mT) / log10(2):
            25 {(1 + X^(6 sT))^(1/(6 sT)) - 3 (1 + (X/3)^(6 sT))^(1/(6 sT)) + 2}

7.5  Ie,eff = Ie + (95 - Ie) Ppl / (Ppl/BurstR + Bpl), Ppl in percent.
     For loss that follows a two-state Markov model with p = P(loss | last
     packet received) and q = P(received | last packet lost),
     BurstR = 1/(p + q): 1 for random loss, above 1 for bursty loss.

7.6  A, the advantage factor: 0 by default (wired VoIP earns none).

7.7  Defaults: SLR 8, RLR 2, STMR 15, LSTR 18, Ds 3, TELR 65, WEPL 110,
     T 0, Tr 0, Ta 0, qdu 1, Nc -70, Nfor -64, Ps 35, Pr 35, A 0, mT 100,
     sT 1. They give Ro = 94.77, Is = 1.41, Id = 0.15 and R = 93.2.

Annex B: MOS = 1 for R < 0, 4.5 for R > 100, otherwise
     1 + 0.035 R + R (R - 60)(100 - R) 7e-6.
     That cubic dips to 0.99 between R = 0 and R = 6.5; it is clamped to 1
     so the MOS never leaves 1..4.5 and never falls as R rises.

The simplifications made for a softphone, all by choice of inputs: the
absolute one-way delay Ta (RTT/2 + jitter buffer + packetisation + codec
look-ahead) drives Idd only; T and Tr stay 0 as for a call whose echo is
fully cancelled (set them in :class:`EModelParameters` to model echo).
This is the narrowband E-model: wideband codecs (G.722, Opus) are rated on
the narrowband scale with narrowband Ie/Bpl assumptions, so their wideband
benefit (ITU-T G.107.1, R up to 129) is not shown.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from .stats import ReceiverSnapshot


class QualityError(ValueError):
    """A quality function was given an impossible value (a caller bug)."""


@dataclass(frozen=True, slots=True)
class CodecImpairment:
    """E-model figures for one codec (G.107 7.5 / G.113 Appendix I)."""

    name: str
    ie: float
    """Equipment impairment factor without loss."""
    bpl: float
    """Packet-loss robustness factor."""
    lookahead_ms: float
    """Algorithmic delay beyond the frame itself (look-ahead, filters)."""
    source: str


CODEC_IMPAIRMENTS: Mapping[str, CodecImpairment] = MappingProxyType(
    {
        "G711": CodecImpairment(
            "G711", 0.0, 25.1, 0.0, "ITU-T G.113 Appendix I: G.711 with the PLC of G.711 Appendix I"
        ),
        "G711-NOPLC": CodecImpairment(
            "G711-NOPLC", 0.0, 4.3, 0.0, "ITU-T G.113 Appendix I: G.711 without PLC"
        ),
        "G729A": CodecImpairment(
            "G729A", 11.0, 19.0, 5.0, "ITU-T G.113 Appendix I: G.729A + VAD; 5 ms look-ahead (G.729)"
        ),
        "G723.1": CodecImpairment(
            "G723.1", 15.0, 16.1, 7.5,
            "ITU-T G.113 Appendix I: G.723.1 6.3 kbit/s + VAD; 7.5 ms look-ahead (G.723.1)",
        ),
        "G722": CodecImpairment(
            "G722", 0.0, 25.1, 1.5,
            "approximation: no narrowband ITU-T value; rated as G.711 with PLC "
            "(G.722 Appendix III PLC), about 1.5 ms QMF filter delay",
        ),
        "OPUS": CodecImpairment(
            "OPUS", 0.0, 25.1, 6.5,
            "approximation: no ITU-T value; transparent on the narrowband scale at "
            "VoIP bit rates, built-in PLC rated as G.711's; 6.5 ms look-ahead (RFC 6716)",
        ),
    }
)
"""Codec impairments by canonical name; see :func:`codec_impairment`."""

# RTP encoding names (RFC 3551 6) that share an entry. "G729" is taken to be
# the Annex A coder almost every softphone ships (its bitstream is the same).
_CODEC_ALIASES = MappingProxyType(
    {"PCMU": "G711", "PCMA": "G711", "G729": "G729A", "G723": "G723.1"}
)


def codec_impairment(name: str) -> CodecImpairment:
    """The impairment entry for a codec or RTP encoding name (any case)."""
    key = name.upper()
    key = _CODEC_ALIASES.get(key, key)
    try:
        return CODEC_IMPAIRMENTS[key]
    except KeyError:
        raise QualityError(f"no E-model impairment figures for codec {name!r}") from None


@dataclass(frozen=True, slots=True)
class EModelParameters:
    """The E-model inputs other than codec, loss and Ta; G.107 7.7 defaults."""

    slr: float = 8.0
    rlr: float = 2.0
    stmr: float = 15.0
    lstr: float = 18.0
    ds: float = 3.0
    telr: float = 65.0
    wepl: float = 110.0
    t: float = 0.0
    """Mean one-way delay of the echo path, ms."""
    tr: float = 0.0
    """Round-trip delay in a 4-wire loop, ms."""
    qdu: float = 1.0
    nc: float = -70.0
    nfor: float = -64.0
    ps: float = 35.0
    pr: float = 35.0
    a: float = 0.0
    m_t: float = 100.0
    s_t: float = 1.0


DEFAULT_PARAMETERS = EModelParameters()


@dataclass(frozen=True, slots=True)
class EModelResult:
    """R and the terms it is made of (G.107 7.1)."""

    ro: float
    i_s: float
    id: float
    idd: float
    ie_eff: float
    a: float
    r: float


def _noise_floor(p: EModelParameters) -> float:
    """No of G.107 7.2, the total noise power in dBm0p."""
    olr = p.slr + p.rlr
    nos = p.ps - p.slr - p.ds - 100 + 0.004 * (p.ps - olr - p.ds - 14) ** 2
    pre = p.pr + 10 * math.log10(1 + 10 ** ((10 - p.lstr) / 10))
    nor = p.rlr - 121 + pre + 0.008 * (pre - 35) ** 2
    nfo = p.nfor + p.rlr
    return 10 * math.log10(
        10 ** (p.nc / 10) + 10 ** (nos / 10) + 10 ** (nor / 10) + 10 ** (nfo / 10)
    )


def _root(x: float, n: float) -> float:
    """(1 + x^n)^(1/n), the smooth-maximum shape G.107 uses throughout."""
    return math.pow(1 + math.pow(x, n), 1 / n)


def _sidetone_impairment(p: EModelParameters) -> float:
    """Ist of G.107 7.3."""
    stmro = -10 * math.log10(10 ** (-p.stmr / 10) + math.exp(-p.t / 4) * 10 ** (-p.telr / 10))
    return (
        12 * _root((stmro - 13) / 6, 8)
        - 28 * _root((stmro + 1) / 19.4, 35)
        - 13 * _root((stmro - 3) / 33, 13)
        + 29
    )


def basic_signal_to_noise(p: EModelParameters = DEFAULT_PARAMETERS) -> float:
    """Ro of G.107 7.2."""
    return 15 - 1.5 * (p.slr + _noise_floor(p))


def simultaneous_impairment(p: EModelParameters = DEFAULT_PARAMETERS) -> float:
    """Is = Iolr + Ist + Iq of G.107 7.3."""
    no = _noise_floor(p)
    olr = p.slr + p.rlr
    xolr = olr + 0.2 * (64 + no - p.rlr)
    iolr = 20 * (_root(xolr / 8, 8) - xolr / 8)
    q = 37 - 15 * math.log10(p.qdu)
    g = 1.07 + 0.258 * q + 0.0602 * q * q
    y = (basic_signal_to_noise(p) - 100) / 15 + 46 / 8.4 - g / 9
    z = 46 / 30 - g / 40
    iq = 15 * math.log10(1 + 10**y + 10**z)
    return iolr + _sidetone_impairment(p) + iq


def absolute_delay_impairment(ta_ms: float, *, m_t: float = 100.0, s_t: float = 1.0) -> float:
    """Idd of G.107 7.4 for an absolute one-way delay of ``ta_ms``."""
    if ta_ms < 0:
        raise QualityError(f"one-way delay must not be negative, got {ta_ms}")
    if ta_ms <= m_t:
        return 0.0
    x = math.log10(ta_ms / m_t) / math.log10(2)
    n = 6 * s_t
    return 25 * (_root(x, n) - 3 * _root(x / 3, n) + 2)


def delay_impairment(ta_ms: float, p: EModelParameters = DEFAULT_PARAMETERS) -> float:
    """Id = Idte + Idle + Idd of G.107 7.4."""
    no = _noise_floor(p)
    ist = _sidetone_impairment(p)
    roe = -1.5 * (no - p.rlr)
    terv = p.telr - 40 * math.log10((1 + p.t / 10) / (1 + p.t / 150)) + 6 * math.exp(-0.3 * p.t**2)
    if p.stmr < 9:
        terv += ist / 2
    re = 80 + 2.5 * (terv - 14)
    idte = ((roe - re) / 2 + math.sqrt((roe - re) ** 2 / 4 + 100) - 1) * (1 - math.exp(-p.t))
    if p.stmr > 20:
        idte = math.sqrt(idte**2 + ist**2)
    ro = basic_signal_to_noise(p)
    rle = 10.5 * (p.wepl + 7) * math.pow(p.tr + 1, -0.25)
    idle = (ro - rle) / 2 + math.sqrt((ro - rle) ** 2 / 4 + 169)
    return idte + idle + absolute_delay_impairment(ta_ms, m_t=p.m_t, s_t=p.s_t)


def effective_equipment_impairment(ie: float, bpl: float, ppl: float, burst_r: float) -> float:
    """Ie,eff of G.107 7.5; ``ppl`` is the packet loss in percent."""
    if not 0 <= ppl <= 100:
        raise QualityError(f"packet loss must be 0..100 percent, got {ppl}")
    if burst_r <= 0:
        raise QualityError(f"BurstR must be positive, got {burst_r}")
    if bpl <= 0:
        raise QualityError(f"Bpl must be positive, got {bpl}")
    return ie + (95 - ie) * ppl / (ppl / burst_r + bpl)


def _as_codec(codec: str | CodecImpairment) -> CodecImpairment:
    return codec if isinstance(codec, CodecImpairment) else codec_impairment(codec)


def e_model(
    codec: str | CodecImpairment,
    loss_pct: float,
    burst_r: float,
    one_way_delay_ms: float,
    *,
    parameters: EModelParameters = DEFAULT_PARAMETERS,
) -> EModelResult:
    """The E-model rating R with its terms (G.107 7.1)."""
    entry = _as_codec(codec)
    ro = basic_signal_to_noise(parameters)
    i_s = simultaneous_impairment(parameters)
    idd = absolute_delay_impairment(one_way_delay_ms, m_t=parameters.m_t, s_t=parameters.s_t)
    i_d = delay_impairment(one_way_delay_ms, parameters)
    ie_eff = effective_equipment_impairment(entry.ie, entry.bpl, loss_pct, burst_r)
    r = ro - i_s - i_d - ie_eff + parameters.a
    return EModelResult(ro=ro, i_s=i_s, id=i_d, idd=idd, ie_eff=ie_eff, a=parameters.a, r=r)


def e_model_r(
    codec: str | CodecImpairment,
    loss_pct: float,
    burst_r: float,
    one_way_delay_ms: float,
    *,
    parameters: EModelParameters = DEFAULT_PARAMETERS,
) -> float:
    """The E-model rating R for a codec, loss in percent, BurstR and Ta in ms."""
    return e_model(codec, loss_pct, burst_r, one_way_delay_ms, parameters=parameters).r


def mos_from_r(r: float) -> float:
    """Estimated MOS (conversational quality) from R, G.107 Annex B."""
    if r < 0:
        return 1.0
    if r > 100:
        return 4.5
    return max(1.0, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6)


class LossPatternTracker:
    """Estimates BurstR from a sequence of received/lost events (G.107 7.5).

    Counts the transitions of a two-state Markov chain: p = P(lost | the
    previous packet was received), q = P(received | the previous packet was
    lost), BurstR = 1/(p + q). Feed it what the listener gets: one event per
    packet the jitter buffer played (received) or concealed (lost), or
    :meth:`record_run` for a sequence gap. Counts only grow, so it holds no
    history beyond four integers.
    """

    def __init__(self) -> None:
        self.received_to_received = 0
        self.received_to_lost = 0
        self.lost_to_received = 0
        self.lost_to_lost = 0
        self._last: bool | None = None

    def record(self, received: bool) -> None:
        """One packet, received or lost."""
        if self._last is True:
            if received:
                self.received_to_received += 1
            else:
                self.received_to_lost += 1
        elif self._last is False:
            if received:
                self.lost_to_received += 1
            else:
                self.lost_to_lost += 1
        self._last = received

    def record_run(self, received: bool, count: int) -> None:
        """``count`` consecutive packets, all received or all lost."""
        if count < 0:
            raise QualityError(f"run length must not be negative, got {count}")
        if count == 0:
            return
        self.record(received)
        if received:
            self.received_to_received += count - 1
        else:
            self.lost_to_lost += count - 1

    @property
    def p(self) -> float | None:
        """P(lost | previous received); None before any such transition."""
        total = self.received_to_received + self.received_to_lost
        return self.received_to_lost / total if total else None

    @property
    def q(self) -> float | None:
        """P(received | previous lost); None before any such transition."""
        total = self.lost_to_received + self.lost_to_lost
        return self.lost_to_received / total if total else None

    @property
    def burst_r(self) -> float:
        """1/(p + q); 1.0 (random loss) until both p and q are known."""
        p, q = self.p, self.q
        if p is None or q is None or p + q == 0:
            return 1.0
        return 1 / (p + q)


@dataclass(frozen=True, slots=True)
class QualityEstimate:
    """What :class:`QualityEstimator` found, with the inputs it used."""

    r: float
    mos: float
    loss_pct: float
    burst_r: float
    one_way_delay_ms: float
    delay_known: bool
    """False when no RTT was known and the network delay was taken as 0."""
    ie_eff: float
    idd: float


class QualityEstimator:
    """R and MOS for a call from its receive statistics, RTT and buffering.

    One-way delay Ta = RTT/2 + jitter buffer delay + packetisation (ptime)
    + codec look-ahead. The loss given to the E-model is what the listener
    misses: packets lost in the network plus late ones the jitter buffer
    discarded, as a percentage of those expected. BurstR below 1 is raised
    to 1: G.107 defines it from 1 (random) upwards.
    """

    def __init__(
        self,
        codec: str | CodecImpairment,
        *,
        ptime_ms: float = 20.0,
        parameters: EModelParameters = DEFAULT_PARAMETERS,
    ) -> None:
        if ptime_ms < 0:
            raise QualityError(f"ptime must not be negative, got {ptime_ms}")
        self.codec = _as_codec(codec)
        self.ptime_ms = ptime_ms
        self.parameters = parameters

    def estimate(
        self,
        snapshot: ReceiverSnapshot,
        rtt_ms: float | None,
        jitter_buffer_ms: float,
        *,
        burst_r: float | None = None,
    ) -> QualityEstimate:
        """Estimate R and MOS now; ``burst_r`` from a LossPatternTracker."""
        if jitter_buffer_ms < 0:
            raise QualityError(f"jitter buffer delay must not be negative, got {jitter_buffer_ms}")
        if rtt_ms is not None and rtt_ms < 0:
            raise QualityError(f"RTT must not be negative, got {rtt_ms}")
        expected = snapshot.packets_expected
        missed = max(snapshot.packets_lost, 0) + snapshot.late
        loss_pct = min(100.0, missed * 100.0 / expected) if expected > 0 else 0.0
        burst = max(1.0, burst_r) if burst_r is not None else 1.0
        network_ms = rtt_ms / 2 if rtt_ms is not None else 0.0
        ta = network_ms + jitter_buffer_ms + self.ptime_ms + self.codec.lookahead_ms
        result = e_model(self.codec, loss_pct, burst, ta, parameters=self.parameters)
        return QualityEstimate(
            r=result.r,
            mos=mos_from_r(result.r),
            loss_pct=loss_pct,
            burst_r=burst,
            one_way_delay_ms=ta,
            delay_known=rtt_ms is not None,
            ie_eff=result.ie_eff,
            idd=result.idd,
        )
