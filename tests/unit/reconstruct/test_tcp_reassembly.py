"""TCP reassembly: ordering, holes, overlaps, connection life cycle and Wireshark stream numbering."""

from __future__ import annotations

from stickyforensics.reconstruct.segments import ACK, FIN, PSH, RST, SYN, TcpSegment
from tests.unit.reconstruct.tcpbuild import Clock, Conversation, reassemble, renumber

C = ("10.0.0.1", 40000)
S = ("10.0.0.100", 80)


def seg(from_client: bool, flags: int, seq: int, ack: int = 0, payload: bytes = b"", **kw: object) -> TcpSegment:
    src, dst = (C, S) if from_client else (S, C)
    wire = kw.pop("wire_len", len(payload))
    kw["wire_len"] = wire
    return TcpSegment(0, 0.0, src[0], dst[0], src[1], dst[1], seq & 0xFFFFFFFF, ack, flags, payload, **kw)  # type: ignore[arg-type]


def data_events(rec, from_a=True):  # type: ignore[no-untyped-def]
    return [e for e in rec.events if e[0] in ("data", "gap") and e[1] == from_a]


def test_in_order_bytes_reach_the_consumer_with_their_frames() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"hello ", sizes=[3])
    c.reply(b"world")
    recs, diags, streams, _ = reassemble(c.segments)
    assert streams == [0] * len(c.segments)
    (rec,) = recs
    assert bytes(rec.bytes[True]) == b"hello "
    assert bytes(rec.bytes[False]) == b"world"
    assert ("begin", True, True) in rec.events  # the stream start was captured
    assert [e[2] for e in data_events(rec)] == [4, 5]
    assert diags == []


def test_out_of_order_segments_are_delivered_in_sequence_order() -> None:
    c = Conversation()
    c.handshake()
    data = c.send(b"abcdefghij", sizes=[2, 3, 5])
    order = [*c.segments[:3], data[2], data[0], data[1]]
    recs, diags, _, _ = reassemble(renumber(order))
    assert bytes(recs[0].bytes[True]) == b"abcdefghij"
    assert diags == []


def test_duplicates_are_ignored_and_conflicting_overlaps_keep_the_first_copy() -> None:
    c = Conversation()
    c.handshake()
    first = c.send(b"GET /a HTTP/1.1\r\n")
    same = TcpSegment(**{**_fields(first[0])})
    c.segments.append(same)
    clash = TcpSegment(**{**_fields(first[0]), "payload": b"GET /b HTTP/1.1\r\n"})
    c.segments.append(clash)
    recs, diags, _, tcp = reassemble(renumber(c.segments))
    assert bytes(recs[0].bytes[True]) == b"GET /a HTTP/1.1\r\n"
    assert [d.code for d in diags] == ["tcp.overlap_conflict"]
    assert diags[0].position == "frame 6"
    assert tcp.retransmitted_segments == 2


def test_partial_overlap_delivers_only_the_new_tail() -> None:
    recs, diags, _, _ = reassemble(
        renumber(
            [
                seg(True, SYN, 99),
                seg(True, ACK | PSH, 100, payload=b"abcd"),
                seg(True, ACK | PSH, 102, payload=b"cdef"),
            ]
        )
    )
    assert bytes(recs[0].bytes[True]) == b"abcdef"
    assert diags == []


def test_buffered_piece_wins_over_a_later_overlapping_copy() -> None:
    recs, diags, _, _ = reassemble(
        renumber(
            [
                seg(True, SYN, 99),
                seg(True, ACK | PSH, 104, payload=b"EFGH"),
                seg(True, ACK | PSH, 102, payload=b"cdXXgh"),
                seg(True, ACK | PSH, 100, payload=b"ab"),
            ]
        )
    )
    assert bytes(recs[0].bytes[True]) == b"abcdEFGH"
    assert [d.code for d in diags] == ["tcp.overlap_conflict"]


def test_keepalive_probe_is_not_a_conflict() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"abc")
    c.segments.append(seg(True, ACK, c.cseq - 1, c.sseq, b"\x00"))
    recs, diags, _, _ = reassemble(renumber(c.segments))
    assert bytes(recs[0].bytes[True]) == b"abc"
    assert diags == []


def test_missing_bytes_become_a_gap_with_a_diagnostic_at_the_frame_after_the_hole() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"aaaa")
    c.skip(True, 10)
    c.send(b"bbbb")
    c.close()
    recs, diags, _, tcp = reassemble(c.segments)
    rec = recs[0]
    assert data_events(rec) == [("data", True, 4, b"aaaa"), ("gap", True, 10, 5), ("data", True, 5, b"bbbb")]
    assert [d.code for d in diags] == ["tcp.missing_segments"]
    assert diags[0].position == "frame 5"
    assert "10 bytes" in diags[0].message
    assert tcp.gaps == 1 and tcp.missing_bytes == 10


def test_a_hole_is_declared_as_soon_as_the_peer_acknowledges_past_it() -> None:
    from stickyforensics.reconstruct.tcp import TcpReassembler
    from tests.unit.reconstruct.tcpbuild import Recorder

    c = Conversation()
    c.handshake()
    c.reply(b"1111")
    c.skip(False, 5)
    c.reply(b"2222")
    c.ack(True)  # acknowledges everything, including the 5 bytes never captured
    recs: list[Recorder] = []
    tcp = TcpReassembler("t", lambda conn: recs.append(Recorder(conn)) or recs[-1], [])
    for s in c.segments[:-1]:
        tcp.feed(s)
    assert ("data", False, 5, b"2222") not in recs[0].events  # held: the hole may still be filled
    tcp.feed(c.segments[-1])
    assert recs[0].events[-2:] == [("gap", False, 5, 5), ("data", False, 5, b"2222")]


def test_out_of_order_buffer_is_bounded() -> None:
    segs = [seg(True, SYN, 99)]
    segs += [seg(True, ACK | PSH, 200 + i * 10, payload=b"x" * 10) for i in range(20)]
    recs, diags, _, _ = reassemble(renumber(segs), max_ooo_pieces=4)
    rec = recs[0]
    gaps = [e for e in rec.events if e[0] == "gap"]
    assert gaps[0][2] == 100  # bytes 100..199 never came
    assert bytes(rec.bytes[True]) == b"x" * 200
    assert [d.code for d in diags] == ["tcp.missing_segments"]


def test_sequence_numbers_wrap_around() -> None:
    c = Conversation(cisn=0xFFFFFFF0, sisn=0xFFFFFFFE)
    c.handshake()
    c.send(b"0123456789" * 4, sizes=[7] * 6)
    c.reply(b"abcdefgh", sizes=[1, 1, 1, 5])
    segs = c.segments[:3] + list(reversed(c.segments[3:9])) + c.segments[9:]
    recs, diags, _, _ = reassemble(renumber(segs))
    assert bytes(recs[0].bytes[True]) == b"0123456789" * 4
    assert bytes(recs[0].bytes[False]) == b"abcdefgh"
    assert diags == []


def test_connection_without_handshake_starts_at_its_first_data() -> None:
    c = Conversation()
    c.send(b"mid-stream")
    recs, _, _, _ = reassemble(c.segments)
    assert recs[0].events[0] == ("begin", True, False)
    assert bytes(recs[0].bytes[True]) == b"mid-stream"


def test_syn_ack_anchors_the_client_direction_when_the_syn_was_lost() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"hello")
    recs, _, _, _ = reassemble(renumber(c.segments[1:]))
    conn = recs[0].conn
    assert conn.client_is_a is False  # the first packet seen came from the server
    assert ("begin", False, True) in recs[0].events
    assert bytes(recs[0].bytes[False]) == b"hello"


def test_fin_both_ways_closes_and_frees_the_connection_but_keeps_its_index() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"x")
    c.close()
    late = c.ack(False)
    recs, _, streams, tcp = reassemble(c.segments)
    rec = recs[0]
    assert ("end", True, 5) in rec.events and ("end", False, 6) in rec.events
    assert rec.closed_reason == "fin"
    assert streams[-1] == 0 and late.frame == len(c.segments)
    assert tcp._open == {}
    assert rec.conn.ab.ooo == [] and rec.conn.ab.consumer is None


def test_half_close_keeps_the_other_direction_flowing() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"req")
    c.fin(True)
    c.reply(b"response after the client's FIN")
    recs, _, _, _ = reassemble(c.segments)
    assert bytes(recs[0].bytes[False]) == b"response after the client's FIN"
    assert recs[0].closed_reason == "end_of_input"


def test_reset_closes_and_new_data_reopens_under_the_same_index() -> None:
    c = Conversation()
    c.handshake()
    c.send(b"one")
    c.rst(False)
    c.send(b"two")
    recs, _, streams, _ = reassemble(c.segments)
    assert len(recs) == 2
    assert recs[0].closed_reason == "reset"
    assert recs[1].conn is recs[0].conn and set(streams) == {0}
    assert ("begin", True, False) in recs[1].events
    assert bytes(recs[1].bytes[True]) == b"two"


def test_idle_connections_are_flushed() -> None:
    clock = Clock(step=10.0)
    c = Conversation(clock=clock)
    c.handshake()
    c.send(b"x")
    other = Conversation(("10.0.0.2", 40001), clock=clock)
    other.handshake()
    recs, _, _, _tcp = reassemble(c.segments + other.segments, idle_timeout=15.0, sweep_every=1)
    assert recs[0].closed_reason == "idle"
    assert recs[1].closed_reason == "end_of_input"


def test_snaplen_cut_payload_becomes_a_gap() -> None:
    recs, diags, _, _ = reassemble(
        renumber(
            [
                seg(True, SYN, 99),
                seg(True, ACK | PSH, 100, payload=b"abc", wire_len=10, truncated=True),
                seg(True, ACK | PSH, 110, payload=b"tail"),
            ]
        )
    )
    assert data_events(recs[0]) == [("data", True, 2, b"abc"), ("gap", True, 7, 2), ("data", True, 3, b"tail")]
    assert [d.code for d in diags] == ["tcp.truncated_segments"]


def test_skipped_connections_get_no_more_bytes() -> None:
    from stickyforensics.reconstruct.tcp import TcpReassembler
    from tests.unit.reconstruct.tcpbuild import Recorder

    recorders: list[Recorder] = []

    def factory(conn):  # type: ignore[no-untyped-def]
        conn.skip = True
        r = Recorder(conn)
        recorders.append(r)
        return r

    c = Conversation()
    c.handshake()
    c.send(b"abc")
    c.close()
    tcp = TcpReassembler("t", factory, [])
    for s in c.segments:
        tcp.feed(s)
    assert bytes(recorders[0].bytes[True]) == b""
    assert recorders[0].closed_reason == "fin"


# -- Wireshark tcp.stream numbering (each rule checked against tshark 4.0, see the agreement test) --


def test_streams_are_numbered_in_order_of_first_packet() -> None:
    clock = Clock()
    a = Conversation(("10.0.0.1", 1111), clock=clock)
    b = Conversation(("10.0.0.2", 2222), clock=clock)
    a.handshake()
    b.handshake()
    a.send(b"x")
    b.send(b"y")
    segs = sorted(a.segments + b.segments, key=lambda s: s.frame)
    _, _, streams, tcp = reassemble(segs)
    assert streams == [0, 0, 0, 1, 1, 1, 0, 1]
    assert tcp.streams == 2


def test_syn_with_a_new_isn_on_the_same_ports_is_a_new_stream() -> None:
    segs = [
        seg(True, SYN, 100),
        seg(False, SYN | ACK, 500, 101),
        seg(True, FIN | ACK, 101, 501),
        seg(False, FIN | ACK, 501, 102),
        seg(True, SYN, 100),  # retransmitted SYN: same ISN, same stream
        seg(True, SYN, 7000),  # new ISN: port reuse
        seg(False, SYN | ACK, 900, 7001),
    ]
    _, _, streams, _ = reassemble(renumber(segs))
    assert streams == [0, 0, 0, 0, 0, 1, 1]


def test_reverse_base_sequence_comes_from_the_first_ack() -> None:
    # tshark: a SYN whose seq differs from (first ACK's ack - 1) starts a new stream; equal does not.
    _, _, streams, _ = reassemble(renumber([seg(False, ACK | PSH, 7000, 1000, b"x"), seg(True, SYN, 5000)]))
    assert streams == [0, 1]
    _, _, streams, _ = reassemble(renumber([seg(False, ACK | PSH, 7000, 1000, b"x"), seg(True, SYN, 999)]))
    assert streams == [0, 0]
    _, _, streams, _ = reassemble(renumber([seg(False, PSH, 7000, 0, b"x"), seg(True, SYN, 5000)]))
    assert streams == [0, 0]


def test_syn_after_rst_with_a_new_seq_is_a_new_stream() -> None:
    segs = [seg(True, ACK | PSH, 1000, 1, b"x"), seg(False, RST, 1), seg(False, SYN, 9)]
    _, _, streams, _ = reassemble(renumber(segs))
    assert streams == [0, 0, 1]


def test_forgotten_tombstones_are_reported() -> None:
    clock = Clock()
    segs: list[TcpSegment] = []
    for i in range(3):
        c = Conversation(("10.0.0.1", 1000 + i), clock=clock)
        c.handshake()
        c.close()
        segs += c.segments
    _, diags, _, _ = reassemble(segs, max_tombstones=1)
    assert [d.code for d in diags] == ["tcp.stream_numbering_approximate"]


def _fields(s: TcpSegment) -> dict[str, object]:
    return {name: getattr(s, name) for name in TcpSegment.__slots__}  # type: ignore[attr-defined]


def test_rst_payload_is_not_stream_data() -> None:
    segs = [seg(True, SYN, 99), seg(True, RST | ACK, 100, payload=b"connection reset text")]
    recs, _, _, _ = reassemble(renumber(segs))
    assert bytes(recs[0].bytes[True]) == b""
