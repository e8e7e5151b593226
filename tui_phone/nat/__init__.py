"""NAT traversal: STUN (public address, NAT type) and UPnP IGD port mapping.

* ``stun_message`` (pure): RFC 5389 Binding codec, XOR-MAPPED-ADDRESS, FINGERPRINT.
* ``nat_type`` (pure): ``NatType``, ``StunResult``, ``describe_nat``, ``advertised_address``.
* ``stun``: ``StunClient`` / ``query_stun`` -- our RFC 5389 transaction for the
  public address, pystun3's RFC 3489 tests for the NAT type.
* ``igd_protocol`` (pure): SSDP M-SEARCH, device description, SOAP.
* ``igd``: ``MiniupnpcIgd`` (production multicast discovery) and ``SoapIgd``
  (unicast SSDP to a configured address + our SOAP client).
* ``upnp``: ``UpnpMapper`` -- add, renew at lease/2, remove on exit.
"""
