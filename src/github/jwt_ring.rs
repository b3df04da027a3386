//! The GitHub App's JWT (RS256) signed with `ring`, the crypto library rustls already links.
//!
//! octocrab signs the App's JWT through jsonwebtoken, whose signatures come from a process-wide
//! [`CryptoProvider`]. Its built-in providers are aws-lc-rs (a second C crypto library, 2 MB
//! of binary and a slow C build, linked only for this one signature) and RustCrypto's `rsa`
//! (advisory RUSTSEC-2023-0071, timing side channels in private-key operations). octocrab needs
//! one of them enabled to compile, so the `rsa` one is (see deny.toml), but [`install`] puts this
//! provider in place before the first JWT is signed: the `rsa` crate never sees the key.
//!
//! Only RS256 signing is provided (GitHub Apps use nothing else); the server verifies no JWTs.

use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{ErrorKind, Result};
use jsonwebtoken::signature::{self, Signer};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, EncodingKey};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};

static PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: new_signer,
    verifier_factory: new_verifier,
    jwk_utils: JwkUtils::new_unimplemented(),
};

/// Makes this module's provider jsonwebtoken's process-wide one. Idempotent; call it before the
/// first JWT is signed (jsonwebtoken otherwise picks its crate-feature default then, for good).
pub(crate) fn install() {
    // An `Err` means a provider is already installed: ours, by an earlier call.
    let _ = PROVIDER.install_default();
}

/// Whether the process-wide provider is this module's (a test's check).
#[cfg(test)]
fn installed() -> bool {
    PROVIDER
        .install_default()
        .is_err_and(|p| std::ptr::eq(p, &PROVIDER))
}

fn new_signer(algorithm: &Algorithm, key: &EncodingKey) -> Result<Box<dyn JwtSigner>> {
    if *algorithm != Algorithm::RS256 {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    if key.family() != AlgorithmFamily::Rsa {
        return Err(ErrorKind::InvalidKeyFormat.into());
    }
    // `EncodingKey::from_rsa_pem` holds the key as PKCS#1 DER (RSAPrivateKey).
    let key_pair =
        RsaKeyPair::from_der(key.inner()).map_err(|e| ErrorKind::InvalidRsaKey(e.to_string()))?;
    Ok(Box::new(Rs256Signer(key_pair)))
}

fn new_verifier(_: &Algorithm, _: &DecodingKey) -> Result<Box<dyn JwtVerifier>> {
    Err(ErrorKind::InvalidAlgorithm.into())
}

struct Rs256Signer(RsaKeyPair);

impl Signer<Vec<u8>> for Rs256Signer {
    fn try_sign(&self, msg: &[u8]) -> std::result::Result<Vec<u8>, signature::Error> {
        let mut sig = vec![0; self.0.public().modulus_len()];
        self.0
            .sign(&RSA_PKCS1_SHA256, &SystemRandom::new(), msg, &mut sig)
            .map_err(|_| signature::Error::new())?;
        Ok(sig)
    }
}

impl JwtSigner for Rs256Signer {
    fn algorithm(&self) -> Algorithm {
        Algorithm::RS256
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::github::auth::tests::{TEST_KEY as KEY, TEST_PUBLIC_KEY as PUBLIC_KEY};

    #[test]
    fn an_rs256_jwt_signed_with_ring_verifies_with_the_public_key() {
        install();
        assert!(installed());
        let key = EncodingKey::from_rsa_pem(KEY).unwrap();
        let header = jsonwebtoken::Header::new(Algorithm::RS256);
        let jwt = jsonwebtoken::encode(&header, &serde_json::json!({ "iss": 1 }), &key).unwrap();
        let (message, sig) = jwt.rsplit_once('.').unwrap();
        // An independent check: ring's verifier on the public key's DER.
        let public = DecodingKey::from_rsa_pem(PUBLIC_KEY).unwrap();
        let jsonwebtoken::DecodingKeyKind::SecretOrDer(der) = public.kind() else {
            panic!("not DER: the public key's form changed");
        };
        use base64::Engine as _;
        let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(sig)
            .unwrap();
        ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, der)
            .verify(message.as_bytes(), &sig)
            .expect("the signature verifies");
    }

    #[test]
    fn other_algorithms_are_refused() {
        let key = EncodingKey::from_rsa_pem(KEY).unwrap();
        assert!(new_signer(&Algorithm::RS512, &key).is_err());
        assert!(new_signer(&Algorithm::RS256, &EncodingKey::from_secret(b"x")).is_err());
    }
}
