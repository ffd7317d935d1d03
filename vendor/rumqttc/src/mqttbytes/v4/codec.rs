use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use super::{Error, Packet};

/// MQTT v4 codec
#[derive(Debug, Clone)]
pub struct Codec {
    /// Maximum packet size allowed by client
    pub max_incoming_size: usize,
    /// Maximum packet size allowed by broker
    pub max_outgoing_size: usize,
    pub expect_connack: bool, // mqtt-cli patch 11
}

impl Decoder for Codec {
    type Item = Packet;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, Self::Error> {
        if self.expect_connack && !src.is_empty() && src[0] != 0x20 { // mqtt-cli patch 11
            return Err(Error::NotMqtt(src[..src.len().min(256)].to_vec()));
        }
        match Packet::read(src, self.max_incoming_size) {
            Ok(packet) => {
                self.expect_connack = false;
                Ok(Some(packet))
            }
            Err(Error::InsufficientBytes(b)) => {
                // Get more packets to construct the incomplete packet
                src.reserve(b);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }
}

impl Encoder<Packet> for Codec {
    type Error = Error;

    fn encode(&mut self, item: Packet, dst: &mut BytesMut) -> Result<(), Self::Error> {
        item.write(dst, self.max_outgoing_size)?;

        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use tokio_util::codec::Encoder;

    use super::Codec;
    use crate::{mqttbytes::Error, Packet, Publish, QoS};

    #[test]
    fn outgoing_max_packet_size_check() {
        let mut buf = BytesMut::new();
        let mut codec = Codec {
            max_incoming_size: 100,
            max_outgoing_size: 200,
            expect_connack: false,
        };

        let mut small_publish = Publish::new("hello/world", QoS::AtLeastOnce, vec![1; 100]);
        small_publish.pkid = 1;
        codec
            .encode(Packet::Publish(small_publish), &mut buf)
            .unwrap();

        let large_publish = Publish::new("hello/world", QoS::AtLeastOnce, vec![1; 265]);
        match codec.encode(Packet::Publish(large_publish), &mut buf) {
            Err(Error::OutgoingPacketTooLarge {
                pkt_size: 281,
                max: 200,
            }) => {}
            _ => unreachable!(),
        }
    }
}

/// mqtt-cli patch 11: the first packet of a connection must be a CONNACK.
#[cfg(test)]
mod first_packet_tests {
    use bytes::BytesMut;
    use tokio_util::codec::Decoder;

    use super::Codec;
    use crate::mqttbytes::Error;

    fn codec() -> Codec {
        Codec {
            max_incoming_size: 1 << 20,
            max_outgoing_size: 1 << 20,
            expect_connack: true,
        }
    }

    #[test]
    fn bytes_that_are_not_a_connack_are_refused_at_once() {
        // "HTTP/1..." would otherwise read as a PUBACK whose remaining length is 'T' (84).
        let mut http = BytesMut::from(&b"HTTP/1.1 400 Bad Request\r\n"[..]);
        match codec().decode(&mut http) {
            Err(Error::NotMqtt(bytes)) => assert!(bytes.starts_with(b"HTTP/1.1")),
            other => panic!("expected NotMqtt, got {other:?}"),
        }
    }

    #[test]
    fn a_connack_then_anything_is_read() {
        let mut codec = codec();
        let mut input = BytesMut::from(&[0x20, 0x02, 0x00, 0x00, 0x40, 0x02, 0x00, 0x01][..]);
        assert!(matches!(
            codec.decode(&mut input),
            Ok(Some(crate::Packet::ConnAck(_)))
        ));
        assert!(matches!(
            codec.decode(&mut input),
            Ok(Some(crate::Packet::PubAck(_)))
        ));
    }
}
