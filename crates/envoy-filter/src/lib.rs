//! proxy-wasm HTTP filter that verifies FSPIOP JWS signatures at the edge.
