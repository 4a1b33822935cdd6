with

faces as (

    select * from {{ ref('int_faces_clustered') }}

),

embeddings as (

    select * from {{ ref('stg_face_embeddings') }}

),

-- one row per influencer, face and embedding dimension: DuckDB has no element-wise array mean
elements as (

    select
        faces.influencer_id,
        embeddings.embedder,
        faces.face_id,
        unnest(range(1, array_length(embeddings.embedding) + 1)) as dim,
        unnest(cast(embeddings.embedding as float[])) as component
    from faces
    inner join embeddings
        on faces.face_id = embeddings.face_id
    where faces.influencer_id is not null

),

means as (

    select
        influencer_id,
        embedder,
        dim,
        avg(component) as component,
        count(distinct face_id) as n_faces
    from elements
    group by influencer_id, embedder, dim

),

-- unit length, like the stored embeddings, so a dot product is a cosine too
normalised as (

    select
        influencer_id,
        embedder,
        n_faces,
        dim,
        component
        / nullif(sqrt(sum(component * component) over (partition by influencer_id)), 0)
            as component
    from means

),

final as (

    select
        influencer_id,
        any_value(embedder) as embedder,
        cast(max(n_faces) as integer) as n_faces,
        cast(list(component order by dim) as {{ embedding_type() }}) as centroid
    from normalised
    group by influencer_id

)

select * from final
