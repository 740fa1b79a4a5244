//! Internet gateways, Elastic IPs and NAT gateways.
